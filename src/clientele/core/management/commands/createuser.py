"""`clientele createuser`: create or update a user with a role."""

import getpass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from clientele.core.models import Role, Team, User


class Command(BaseCommand):
    help = "Create a user (or update their role, team and password)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=[r.value for r in Role], default=Role.ADMINISTRATOR)
        parser.add_argument("--email", default="")
        parser.add_argument("--team", help="team name (created if missing)")
        parser.add_argument("--password", help="otherwise asked for, or read from stdin")
        parser.add_argument("--language", choices=["en", "zh-hans"], default="")

    def handle(self, *args, **options):
        password = options["password"]
        if password is None:
            if not self.stdin_isatty():
                password = input().strip()
            else:
                password = getpass.getpass("Password: ")
        user = User.objects.filter(username=options["username"]).first() or User(
            username=options["username"]
        )
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        user.role = options["role"]
        user.email = options["email"] or user.email
        user.language = options["language"] or user.language
        user.is_staff = user.role == Role.ADMINISTRATOR
        if options["team"]:
            user.team, _ = Team.objects.get_or_create(name=options["team"])
        user.set_password(password)
        user.save()
        self.stdout.write(f"User {user.username} ({user.get_role_display()}) saved.")

    @staticmethod
    def stdin_isatty():
        import sys

        return sys.stdin.isatty()
