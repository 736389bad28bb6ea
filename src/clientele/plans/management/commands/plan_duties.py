"""`clientele manage plan_duties [--date YYYY-MM-DD]`: create this period's duty tasks,
close those fulfilled by recorded Interactions and mark missed those whose period ended."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from clientele.plans.tasks import run_locked


class Command(BaseCommand):
    help = "Create the duty tasks of the class plans for the current period and update them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", help="a local day inside the period to create tasks for (default: today)"
        )

    def handle(self, *args, **options):
        today = None
        if options["date"]:
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError as error:
                raise CommandError(f"--date: {error}") from error
        result = run_locked(today=today)
        self.stdout.write("created {created}, done {done}, missed {missed}".format(**result))
