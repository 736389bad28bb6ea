"""Choices of the class plans: what a duty asks, per which period, performed by whom."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DutyKind(models.TextChoices):
    REQUIRED = "required", _("At least (required contact)")
    FORBIDDEN = "forbidden", _("Forbidden channel")


class Period(models.TextChoices):
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class Performer(models.TextChoices):
    ACCOUNT_MANAGER = "account_manager", _("The customer's account manager")
    USER = "user", _("A named user (e.g. an executive)")
    TEAM = "team", _("The plan's owning team")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    MISSED = "missed", _("Missed")
