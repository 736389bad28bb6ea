"""Benchmark: dispatch messages from the outbox to the local adapters, exactly once.

    python bench/bench_dispatch.py                       # 1,000,000 messages, PostgreSQL
    python bench/bench_dispatch.py --messages 200000 --workers 2 --adapters http

For each adapter (the file adapter, and SMS over HTTP to the local gateway running in its
own process) the benchmark empties the outbox, queues N messages, starts W worker
processes (the same Dispatcher as `clientele manage dispatch_outbox`) and times them
until nothing is pending or sending. It samples progress every few seconds and reports
the overall rate and the slowest 10-second window ("sustained"), then checks exactly-once
delivery: the file holds N lines with N distinct keys / the gateway delivered N messages
with N distinct keys; the outbox has N sent rows and the timeline N Interactions.

The baseline, measured in the same process, is the database itself taking the same N
rows with a raw COPY into a table of the outbox's shape without indexes: the ratio says
what fraction of plain insert speed a full dispatch (claim, send, mark, timeline) keeps.

Then (unless --reliability 0) the reliability run of the issue: 100,000 messages to the
gateway, one worker killed with SIGKILL after 30% of them, another started; every message
must be delivered exactly once (the test suite runs the same scenario at 20,000).

Target (issue 4): >= 2,000 messages/s sustained at 1,000,000 messages.
The database named by --database is dropped and created again.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

TARGET_RATE = 2000
CUSTOMERS = 10000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--database",
        default="postgres://postgres@127.0.0.1:5432/clientele_bench_dispatch",
        help="a PostgreSQL URL (the database is recreated) or 'sqlite'",
    )
    parser.add_argument("--adapters", default="file,http", help="file, http or both")
    parser.add_argument("--sample-seconds", type=float, default=2.0)
    parser.add_argument(
        "--reliability",
        type=int,
        default=100_000,
        help="messages for the kill -9 run (0 to skip)",
    )
    parser.add_argument("--lease", type=float, default=120, help=argparse.SUPPRESS)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and the data folder afterwards"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sms-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--outbox-dir", default="", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def recreate_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def setup_django(args, data_dir: Path) -> None:
    os.environ["CLIENTELE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientele.settings")
    if args.database != "sqlite":
        os.environ["DATABASE_URL"] = args.database
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["LOG_LEVEL"] = "ERROR"
    import django

    django.setup()
    from django.conf import settings

    settings.CLIENTELE_SMS_URL = args.sms_url
    settings.CLIENTELE_OUTBOX_DIR = args.outbox_dir or str(data_dir / "outbox")


def worker_main(args) -> None:
    """One worker process: drain until nothing is pending or sending."""
    setup_django(args, Path(os.environ["CLIENTELE_DATA_DIR"]))
    from clientele.channels.dispatcher import Dispatcher

    stats = Dispatcher(batch_size=args.batch_size, lease_seconds=args.lease).run(
        stop_when="done", idle_sleep=0.2
    )
    print(json.dumps(stats.__dict__), flush=True)


def prepare(messages: int) -> list[int]:
    from django.core.management import call_command

    from clientele.channels.models import ContactPolicy
    from clientele.customers.models import Customer

    call_command("migrate", verbosity=0)
    policy = ContactPolicy.current()
    policy.quiet_hours_start = policy.quiet_hours_end = None  # run at any hour
    policy.save()
    Customer.objects.bulk_create(
        [
            Customer(code=f"B{i:06d}", name=f"Bench {i}", phone=f"+86137{i:08d}")
            for i in range(CUSTOMERS)
        ],
        batch_size=5000,
    )
    return list(Customer.objects.order_by("id").values_list("id", flat=True))


def rows(customer_ids, messages: int, tag: str):
    from clientele.channels.services import NewMessage

    for i in range(messages):
        yield NewMessage(
            channel="sms",
            customer_id=customer_ids[i % len(customer_ids)],
            recipient=f"+86139{i:08d}",
            body=f"Thank you for shopping on 11.11: coupon {i:07d}",
            dedup_key=f"{tag}:{i}:0:sms",
            campaign_id=1,
            task_id=i,
            wave=0,
        )


def baseline(customer_ids, messages: int) -> float:
    """Raw insert (COPY on PostgreSQL) of the same rows into an index-free table of the
    outbox's shape."""
    from django.db import connection, transaction
    from django.utils import timezone

    from clientele.channels import bulk
    from clientele.channels.models import OutboxMessage
    from clientele.channels.services import _row

    table = OutboxMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_baseline")
        cursor.execute(f"CREATE TABLE bench_baseline AS SELECT * FROM {table} WHERE false")
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        batch = []
        for i, message in enumerate(rows(customer_ids, messages, "baseline")):
            batch.append(_row(i, message, now))
            if len(batch) == 5000:
                bulk.insert(OutboxMessage, batch, table="bench_baseline")
                batch = []
        bulk.insert(OutboxMessage, batch, table="bench_baseline")
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_baseline")
    return messages / elapsed


def reset_outbox() -> None:
    from django.db import connection

    from clientele.channels.models import OutboxMessage, SuppressionRecord
    from clientele.customers.models import Interaction

    with connection.cursor() as cursor:
        for model in (OutboxMessage, Interaction, SuppressionRecord):
            table = model._meta.db_table
            if connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {table}")
            else:
                cursor.execute(f"DELETE FROM {table}")


def outstanding() -> int:
    from clientele.channels.choices import MessageStatus
    from clientele.channels.models import OutboxMessage

    return OutboxMessage.objects.filter(
        status__in=[MessageStatus.PENDING, MessageStatus.SENDING]
    ).count()


def start_gateway(port: int) -> subprocess.Popen:
    gateway = subprocess.Popen(
        [sys.executable, "-m", "clientele.channels.testing", "--port", str(port), "--no-keep"],
        stdout=subprocess.PIPE,
        text=True,
    )
    gateway.stdout.readline()  # "gateway listening on ..."
    return gateway


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_worker(args, sms_url: str, outbox_dir: Path, data_dir: Path, lease: float = 120):
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--database",
        args.database,
        "--batch-size",
        str(args.batch_size),
        "--sms-url",
        sms_url,
        "--outbox-dir",
        str(outbox_dir),
        "--lease",
        str(lease),
    ]
    env = {**os.environ, "CLIENTELE_DATA_DIR": str(data_dir)}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def run_adapter(args, adapter: str, customer_ids, data_dir: Path) -> dict:
    from django.db import connection

    from clientele.channels.choices import MessageStatus
    from clientele.channels.models import OutboxMessage
    from clientele.channels.services import enqueue
    from clientele.channels.testing import fetch_json
    from clientele.customers.models import Interaction

    reset_outbox()
    started = time.perf_counter()
    enqueue(rows(customer_ids, args.messages, adapter))
    enqueue_rate = args.messages / (time.perf_counter() - started)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {OutboxMessage._meta.db_table}")

    gateway = None
    sms_url = ""
    outbox_dir = data_dir / f"outbox-{adapter}"
    if adapter == "http":
        port = free_port()
        gateway = start_gateway(port)
        sms_url = f"http://127.0.0.1:{port}"
    samples = []
    started = time.perf_counter()
    workers = [start_worker(args, sms_url, outbox_dir, data_dir) for _ in range(args.workers)]
    while any(w.poll() is None for w in workers):
        time.sleep(args.sample_seconds)
        samples.append((time.perf_counter() - started, args.messages - outstanding()))
    elapsed = time.perf_counter() - started
    worker_stats = [json.loads(w.stdout.read().strip().splitlines()[-1]) for w in workers]
    connection.close()

    if adapter == "http":
        stats = fetch_json(f"{sms_url}/stats")
        gateway.terminate()
        gateway.wait()
        delivered, unique, repeats = stats["sent"], stats["unique_keys"], stats["duplicates"]
    else:
        keys = [
            json.loads(line)["idempotency_key"]
            for line in (outbox_dir / "sms.jsonl").read_text().splitlines()
        ]
        delivered, unique, repeats = len(keys), len(set(keys)), 0
    sent_rows = OutboxMessage.objects.filter(status=MessageStatus.SENT).count()
    interactions = Interaction.objects.count()
    rate = args.messages / elapsed
    return {
        "adapter": adapter,
        "enqueue_rate": enqueue_rate,
        "seconds": elapsed,
        "rate": rate,
        "sustained": sustained(samples),
        "delivered": delivered,
        "unique": unique,
        "repeats": repeats,
        "sent_rows": sent_rows,
        "interactions": interactions,
        "claimed": sum(s["claimed"] for s in worker_stats),
        "exactly_once": delivered == unique == sent_rows == interactions == args.messages,
    }


def run_reliability(args, customer_ids, data_dir: Path) -> dict:
    """kill -9 one worker after 30% of the messages, start another, check exactly once."""
    import signal

    from django.db import connection

    from clientele.channels.choices import MessageStatus
    from clientele.channels.models import OutboxMessage
    from clientele.channels.services import enqueue
    from clientele.channels.testing import fetch_json
    from clientele.customers.models import Interaction

    total = args.reliability
    reset_outbox()
    enqueue(rows(customer_ids, total, "kill"))
    port = free_port()
    gateway = start_gateway(port)
    sms_url = f"http://127.0.0.1:{port}"
    outbox_dir = data_dir / "outbox-kill"
    first = start_worker(args, sms_url, outbox_dir, data_dir, lease=5)
    while fetch_json(f"{sms_url}/stats")["sent"] < total * 0.3:
        if first.poll() is not None:
            raise RuntimeError("the worker ended before it could be killed")
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    at_kill = fetch_json(f"{sms_url}/stats")["sent"]
    in_hand = OutboxMessage.objects.filter(status=MessageStatus.SENDING).count()
    connection.close()
    second = start_worker(args, sms_url, outbox_dir, data_dir, lease=5)
    second.wait()
    stats = fetch_json(f"{sms_url}/stats")
    gateway.terminate()
    gateway.wait()
    left = OutboxMessage.objects.filter(
        status__in=[MessageStatus.PENDING, MessageStatus.SENDING]
    ).count()
    interactions = Interaction.objects.count()
    return {
        "total": total,
        "at_kill": at_kill,
        "in_hand": in_hand,
        "delivered": stats["sent"],
        "unique": stats["unique_keys"],
        "repeats": stats["duplicates"],
        "left": left,
        "interactions": interactions,
        "exactly_once": stats["sent"] == stats["unique_keys"] == interactions == total
        and left == 0,
    }


def sustained(samples, window: float = 10.0) -> float:
    """The lowest rate over any `window` seconds of the run (the tail after the last full
    window is left out: the last workers finishing are not the steady state)."""
    worst = None
    for i, (t0, n0) in enumerate(samples):
        for t1, n1 in samples[i + 1 :]:
            if t1 - t0 >= window:
                rate = (n1 - n0) / (t1 - t0)
                worst = rate if worst is None else min(worst, rate)
                break
    if worst is None and samples:
        worst = samples[-1][1] / samples[-1][0]
    return worst or 0.0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker_main(args)
        return 0
    data_dir = Path(tempfile.mkdtemp(prefix="clientele-bench-dispatch-"))
    if args.database != "sqlite":
        recreate_postgres(args.database)
    setup_django(args, data_dir)
    from django.db import connection

    customer_ids = prepare(args.messages)
    base_rate = baseline(customer_ids, args.messages)
    print(
        f"database {connection.vendor}, {args.messages:,} messages, {args.workers} workers, "
        f"batch {args.batch_size}; baseline raw insert of the same rows {base_rate:,.0f} rows/s",
        flush=True,
    )
    ok = True
    for adapter in [a.strip() for a in args.adapters.split(",") if a.strip()]:
        result = run_adapter(args, adapter, customer_ids, data_dir)
        ok &= result["exactly_once"] and result["sustained"] >= TARGET_RATE
        print(
            f"{adapter}: enqueue {result['enqueue_rate']:,.0f}/s; dispatch {result['rate']:,.0f}/s "
            f"overall, {result['sustained']:,.0f}/s sustained (slowest 10 s), "
            f"{result['seconds']:.1f} s; ratio to raw insert {result['rate'] / base_rate:.2f}; "
            f"delivered {result['delivered']:,}, unique keys {result['unique']:,}, "
            f"repeats absorbed {result['repeats']}, sent rows {result['sent_rows']:,}, "
            f"interactions {result['interactions']:,}; exactly once: {result['exactly_once']}",
            flush=True,
        )
    if args.reliability:
        result = run_reliability(args, customer_ids, data_dir)
        ok &= result["exactly_once"]
        print(
            f"kill -9: {result['total']:,} messages, worker killed at {result['at_kill']:,} "
            f"delivered with {result['in_hand']} rows in its hands; after restart delivered "
            f"{result['delivered']:,}, unique keys {result['unique']:,}, repeats absorbed by "
            f"the idempotency key {result['repeats']}, rows left {result['left']}, "
            f"interactions {result['interactions']:,}; exactly once: {result['exactly_once']}",
            flush=True,
        )
    if not args.keep:
        from django.db import connection

        connection.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        if args.database != "sqlite":
            drop_postgres(args.database)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
