"""Choices and fixed class codes of the classification engine.

Class codes are stable identifiers stored in snapshots, current classes and transitions
(plans and campaigns refer to them); what users read is the label, which a definition may
override in English and Chinese."""

from django.db import models
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """The kinds of classification model a definition can be."""

    ABC = "abc", _("ABC / Pareto")
    TIER = "tier", _("Spend tiers")
    RFM = "rfm", _("RFM")
    CLV = "clv", _("Lifetime value")
    QUADRANT = "quadrant", _("Value x expectation quadrants")
    LIFECYCLE = "lifecycle", _("Lifecycle")
    RULE = "rule", _("Rule segment")
    CLUSTER = "cluster", _("Clusters")


# What a definition reads from other definitions of its batch: run side by side, it starts
# only when every earlier definition of these kinds has finished. None: every earlier
# definition (rule segments may test any class or segment, including other segments).
WAITS_FOR = {
    Kind.LIFECYCLE: {Kind.CLV},
    Kind.QUADRANT: {Kind.CLV},
    Kind.CLUSTER: {Kind.CLV, Kind.RFM},
    Kind.RULE: None,
}

# Order in which kinds run within one batch: lifetime value first, because lifecycle
# (probability alive) and quadrants (value) can read its outputs.
KIND_ORDER = {
    Kind.CLV: 0,
    Kind.ABC: 1,
    Kind.TIER: 2,
    Kind.RFM: 3,
    Kind.LIFECYCLE: 4,
    Kind.QUADRANT: 5,
    # Clusters read the RFM and lifetime-value snapshots; rule segments may test the
    # classes of every other kind, so they run last.
    Kind.CLUSTER: 6,
    Kind.RULE: 7,
}


class Schedule(models.TextChoices):
    """When a definition runs by itself (every definition can also be run by hand)."""

    NIGHTLY_AND_IMPORT = "nightly_import", _("Nightly and after each import")
    NIGHTLY = "nightly", _("Nightly")
    MANUAL = "manual", _("Only by hand")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Trigger(models.TextChoices):
    """What started a run."""

    NIGHTLY = "nightly", _("Nightly schedule")
    IMPORT = "import", _("After an import")
    MANUAL = "manual", _("By hand")
    COMMAND = "command", _("Command line")


# The class given to customers a model cannot place because they bought nothing (in
# the model's window); RFM, lifetime value and lifecycle use it.
NO_PURCHASE = "none"

ABC_CODES = ("A", "B", "C")
CLV_CODES = ("high", "medium", "low", NO_PURCHASE)
LIFECYCLE_CODES = ("prospect", "new", "active", "at_risk", "lapsed", "reactivated")
QUADRANT_CODES = ("intimate", "safe", "dangerous", "stranger")
RULE_CODES = ("in", "out")
CLUSTER_RANGE = (2, 12)  # the number of clusters k a definition may ask for


def cluster_code(number: int) -> str:
    """The code of the n-th cluster (1 = the highest average spend)."""
    return f"c{number}"


def _cluster_label_now(n):
    return gettext("Cluster %(n)s") % {"n": n}


_cluster_label = lazy(_cluster_label_now, str)  # translated when displayed

# Built-in labels (English source strings, translated by gettext). A definition's own
# labels, when given, win over these.
DEFAULT_LABELS = {
    "A": _("A"),
    "B": _("B"),
    "C": _("C"),
    NO_PURCHASE: _("No purchases"),
    "high": _("High value"),
    "medium": _("Medium value"),
    "low": _("Low value"),
    "prospect": _("Prospect"),
    "new": _("New"),
    "active": _("Active"),
    "at_risk": _("At risk"),
    "lapsed": _("Lapsed"),
    "reactivated": _("Reactivated"),
    "intimate": _("Intimate"),
    "safe": _("Safe"),
    "dangerous": _("Dangerous"),
    "stranger": _("Stranger"),
    "champions": _("Champions"),
    "loyal": _("Loyal"),
    "potential_loyalists": _("Potential loyalists"),
    "new_customers": _("New customers"),
    "promising": _("Promising"),
    "need_attention": _("Need attention"),
    "about_to_sleep": _("About to sleep"),
    "cannot_lose": _("Cannot lose them"),
    "hibernating": _("Hibernating"),
    "in": _("In segment"),
    "out": _("Not in segment"),
    **{f"c{n}": _cluster_label(n) for n in range(1, 13)},
}
