"""The administration pages (users, teams, the audit log) for every role, generated from
declarations (see core.tests.declarative): only administrators change users and teams;
managers and analysts may look at them; only administrators read the audit log."""

import itertools

from clientele.conftest import password_hash
from clientele.core.models import AuditEntry, Role, Team, User
from clientele.core.tests.declarative import AUDIT, TEAMS, USERS, ModelViewTests

_seq = itertools.count(1)


class TestUserViews(ModelViewTests):
    model = User
    grants = USERS

    def make(self, world, side="a"):
        n = next(_seq)
        return User.objects.create(
            username=f"someone{n}", password=password_hash(), role=Role.ANALYST
        )

    def form_data(self, world):
        return {
            "username": "newbie",
            "first_name": "New",
            "last_name": "Hire",
            "email": "newbie@example.com",
            "role": Role.SERVICE_AGENT,
            "team": world.team_a.pk,
            "language": "",
            "is_active": "on",
            "password": "Plenty-of-entropy-91",
        }

    def edit_data(self, world, obj):
        return {
            "username": obj.username,
            "first_name": "Renamed",
            "role": obj.role,
            "is_active": "on",
        }

    def edited(self, obj):
        return obj.first_name == "Renamed"

    def export_text(self, obj):
        return obj.username

    def search_text(self, obj):
        return obj.username


class TestTeamViews(ModelViewTests):
    model = Team
    grants = TEAMS

    def make(self, world, side="a"):
        return Team.objects.create(name=f"Team N{next(_seq)}")

    def existing(self, world, side="a"):
        return world.team_a if side == "a" else world.team_b

    def form_data(self, world):
        return {"name": "Team C", "description": "North"}

    def edit_data(self, world, obj):
        return {"name": obj.name, "description": "Edited"}

    def edited(self, obj):
        return obj.description == "Edited"

    def export_text(self, obj):
        return obj.name

    def search_text(self, obj):
        return obj.name


class TestAuditViews(ModelViewTests):
    model = AuditEntry
    grants = AUDIT
    actions = ("list", "detail")
    test_add = test_edit = test_delete = None  # the log is written by changes, never by hand

    def make(self, world, side="a"):
        n = next(_seq)
        return AuditEntry.objects.create(
            action=AuditEntry.Action.UPDATE,
            object_type="customers.customer",
            object_id=n,
            object_repr=f"Record {side} {n}",
            changes={"name": ["Old", "New"]},
        )

    def export_text(self, obj):
        return obj.object_repr

    def search_text(self, obj):
        return obj.object_repr
