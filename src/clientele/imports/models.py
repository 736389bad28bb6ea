"""Import jobs: one uploaded file, its column mapping, progress and results."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    CONTACTS = "contacts", _("Contacts")
    PRODUCTS = "products", _("Products")
    ORDERS = "orders", _("Orders with lines")
    INTERACTIONS = "interactions", _("Interactions")
    FEEDBACK = "feedback", _("Feedback")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all", _("The whole file or nothing")
    VALID_ROWS = "valid", _("Import the valid rows")


class ImportStatus(models.TextChoices):
    MAPPING = "mapping", _("Waiting for column mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    REJECTED = "rejected", _("Rejected: nothing imported")
    PARTIAL = "partial", _("Valid rows imported")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One import of one file: what it contains, how its columns map to fields, how far
    it got, and what was rejected (row, column, reason), with the rejected rows kept as a
    file the user can fix and import again."""

    customer_path = None

    kind = models.CharField(_("contents"), max_length=20, choices=ImportKind)
    mode = models.CharField(
        _("mode"), max_length=10, choices=ImportMode, default=ImportMode.ALL_OR_NOTHING
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus, default=ImportStatus.QUEUED
    )
    source = models.CharField(_("source system"), max_length=40, default="import")
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    headers = models.JSONField(_("columns in the file"), default=list, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    created_rows = models.PositiveIntegerField(_("created"), default=0)
    updated_rows = models.PositiveIntegerField(_("updated"), default=0)
    rejected_rows = models.PositiveIntegerField(_("rejected"), default=0)
    # Rows whose record already held the same values: importing a file twice changes nothing.
    unchanged_rows = models.PositiveIntegerField(_("unchanged"), default=0)
    # Progress of the second pass (writing), so the bar moves while the data is saved.
    written_rows = models.PositiveIntegerField(_("rows written"), default=0)
    # Every error found; `errors` keeps only the first ones for display.
    error_count = models.PositiveIntegerField(_("errors found"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    reject_file = models.FileField(_("rejected rows"), upload_to="imports/rejects/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.original_name}"

    def get_absolute_url(self):
        return reverse("imports:importjob_detail", args=[self.pk])

    @property
    def percent(self) -> int:
        """Overall progress: checking the rows is the first half, writing them the second."""
        if self.finished_at:
            return 100
        if not self.total_rows:
            return 0
        done = self.processed_rows + self.written_rows
        return min(99, int(50 * done / self.total_rows))
