"""Pages for users, teams and the audit log (administrators; others may only look)."""

import django_filters
import django_tables2 as tables
from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from .filters import SearchFilterSet
from .forms import ScopedModelForm
from .models import AuditEntry, Role, Team, User
from .tables import BaseTable
from .views import ModelViews


class UserFilterSet(SearchFilterSet):
    search_fields = ("username", "first_name", "last_name", "email")
    role = django_filters.ChoiceFilter(choices=Role.choices, label=_("role"))

    class Meta:
        model = User
        fields = ["team", "is_active"]


class UserTable(BaseTable):
    username = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = User
        fields = (
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "team",
            "is_active",
            "last_login",
        )


class UserForm(ScopedModelForm):
    password = forms.CharField(
        label=_("password"),
        required=False,
        widget=forms.PasswordInput(attrs={"class": "input", "autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = User
        fields = [
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "team",
            "language",
            "is_active",
        ]

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if not password and not self.instance.pk:
            raise forms.ValidationError(_("A new user needs a password."))
        if password:
            validate_password(password, self.instance)
        return password

    def save(self, commit=True):
        if self.cleaned_data.get("password"):
            self.instance.set_password(self.cleaned_data["password"])
        return super().save(commit)


class UserViews(ModelViews):
    model = User
    table = UserTable
    filterset = UserFilterSet
    form = UserForm
    detail_fields = [
        "username",
        "first_name",
        "last_name",
        "email",
        "role",
        "team",
        "language",
        "is_active",
        "last_login",
        "date_joined",
    ]


class TeamFilterSet(SearchFilterSet):
    search_fields = ("name",)

    class Meta:
        model = Team
        fields = []


class TeamTable(BaseTable):
    name = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Team
        fields = ("name", "description")


class TeamForm(ScopedModelForm):
    class Meta:
        model = Team
        fields = ["name", "description"]


class TeamViews(ModelViews):
    model = Team
    table = TeamTable
    filterset = TeamFilterSet
    form = TeamForm


class AuditFilterSet(SearchFilterSet):
    search_fields = ("object_repr", "object_type")
    action = django_filters.ChoiceFilter(choices=AuditEntry.Action.choices, label=_("action"))

    class Meta:
        model = AuditEntry
        fields = ["user"]


class AuditTable(BaseTable):
    at = tables.DateTimeColumn(linkify=True)

    class Meta(BaseTable.Meta):
        model = AuditEntry
        fields = ("at", "user", "action", "object_type", "object_repr", "changes")


class AuditViews(ModelViews):
    model = AuditEntry
    table = AuditTable
    filterset = AuditFilterSet
    actions = ("list", "detail")
    route = "audit"

    @classmethod
    def get_queryset(cls, request):
        return AuditEntry.objects.select_related("user")
