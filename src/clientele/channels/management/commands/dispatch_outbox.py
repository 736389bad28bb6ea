"""`clientele manage dispatch_outbox`: run an outbox worker in the foreground.

Stop it with Ctrl-C or SIGTERM (it finishes the batch in hand); if it is killed outright,
the rows it held are sent again by any worker once their lease runs out."""

import signal
import threading

from django.core.management.base import BaseCommand

from clientele.channels.choices import Channel
from clientele.channels.dispatcher import Dispatcher


class Command(BaseCommand):
    help = "Send the messages waiting in the outbox."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None, help="rows per claim")
        parser.add_argument(
            "--lease", type=float, default=None, help="seconds a claim lasts before it is released"
        )
        parser.add_argument(
            "--channel",
            action="append",
            choices=Channel.values,
            help="only these channels (repeat the option for several)",
        )
        parser.add_argument("--worker-id", default=None)
        parser.add_argument(
            "--until",
            choices=["idle", "done"],
            default=None,
            help="stop when nothing is due (idle) or nothing is pending or sending (done); "
            "by default run until stopped",
        )
        parser.add_argument("--max-seconds", type=float, default=None)
        parser.add_argument("--idle-sleep", type=float, default=1.0)

    def handle(self, *args, **options):
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        dispatcher = Dispatcher(
            worker_id=options["worker_id"],
            batch_size=options["batch_size"],
            lease_seconds=options["lease"],
            channels=options["channel"],
        )
        if options["verbosity"] > 0:
            self.stdout.write(f"dispatcher {dispatcher.worker_id} started")
            self.stdout.flush()
        stats = dispatcher.run(
            stop_when=options["until"],
            max_seconds=options["max_seconds"],
            idle_sleep=options["idle_sleep"],
            stop=stop,
        )
        if options["verbosity"] > 0:
            self.stdout.write(
                f"claimed {stats.claimed}, sent {stats.sent}, retried {stats.retried}, "
                f"failed {stats.failed}, suppressed {stats.suppressed}, "
                f"released {stats.released}, lost lease {stats.lost_lease}"
            )
