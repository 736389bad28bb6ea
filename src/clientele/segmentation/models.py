"""Classification as data: definitions (kind, parameters, labels), runs, per-run snapshots,
the current class of each customer per definition, manual overrides and the transitions
between classes that plans and campaigns react to."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from clientele.core.base import TimeStampedModel

from . import parameters
from .constants import DEFAULT_LABELS, Kind, RunStatus, Schedule, Trigger


class ClassificationDefinition(TimeStampedModel):
    """A named classification model: its kind, validated parameters (window, measure,
    thresholds), class labels in English and Chinese, and when it runs. Several
    definitions of one kind may coexist (ABC by spend and ABC by tons)."""

    audited = True

    key = models.SlugField(
        _("key"),
        max_length=40,
        unique=True,
        help_text=_("Stable name used by other definitions, exports and the command line."),
    )
    name = models.CharField(_("name"), max_length=100, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    description = models.TextField(_("description"), blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    labels = models.JSONField(
        _("class labels"),
        default=dict,
        blank=True,
        help_text=_('By class code: {"A": {"en": "Key account", "zh-hans": "重点客户"}}.'),
    )
    active = models.BooleanField(_("active"), default=True)
    schedule = models.CharField(
        _("schedule"), max_length=16, choices=Schedule, default=Schedule.NIGHTLY_AND_IMPORT
    )
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("classification definition")
        verbose_name_plural = _("classification definitions")

    def __str__(self):
        return self.display_name()

    def display_name(self, language: str | None = None) -> str:
        """The name in the given (default: active) language."""
        language = language or translation.get_language() or "en"
        if language.startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name

    def clean(self):
        """Validate the parameters for the kind (contradictory thresholds are refused) and
        the labels against the class codes; store both normalised."""
        self.parameters = parameters.validate(self.kind, self.parameters)
        self.labels = parameters.validate_labels(self.class_codes(), self.labels)
        self._check_references()

    def _check_references(self):
        """Lifecycle and quadrants may read a lifetime-value definition by its key."""
        keys = []
        if self.kind == Kind.LIFECYCLE and self.parameters.get("p_alive_from"):
            keys.append(("p_alive_from", self.parameters["p_alive_from"]))
        if self.kind == Kind.QUADRANT and (self.parameters.get("value") or {}).get("definition"):
            keys.append(("value.definition", self.parameters["value"]["definition"]))
        if self.kind == Kind.RULE:
            self._check_rule()
        if self.kind == Kind.CLUSTER:
            for field in ("rfm_from", "clv_from"):
                key = self.parameters.get(field)
                wanted = Kind.RFM if field == "rfm_from" else Kind.CLV
                if (
                    key
                    and not ClassificationDefinition.objects.filter(key=key, kind=wanted).exists()
                ):
                    raise ValidationError(
                        {
                            "parameters": [
                                _("%(field)s: there is no %(kind)s definition %(key)s.")
                                % {"field": field, "kind": wanted.label, "key": key}
                            ]
                        }
                    )
        for field, key in keys:
            if not ClassificationDefinition.objects.filter(key=key, kind=Kind.CLV).exists():
                raise ValidationError(
                    {
                        "parameters": [
                            _("%(field)s: there is no lifetime-value definition %(key)s.")
                            % {"field": field, "key": key}
                        ]
                    }
                )

    def _check_rule(self):
        """A rule may refer to other segments, but never (through them) to itself."""
        from . import rules

        errors = rules.validate(self.parameters.get("expression"), definition_key=self.key or None)
        if errors:
            raise ValidationError({"parameters": [str(e) for e in errors]})

    def save(self, *args, **kwargs):
        # Parameters are always stored validated and normalised, whatever path saves them
        # (form, API, shell), so the engine can trust them.
        self.parameters = parameters.validate(self.kind, self.parameters)
        self.labels = parameters.validate_labels(self.class_codes(), self.labels)
        super().save(*args, **kwargs)

    def class_codes(self) -> list[str]:
        """Every class this definition can put a customer in, in display order."""
        if self.kind in (Kind.RULE, Kind.CLUSTER):
            # Their codes depend only on the kind and k; validating a rule expression
            # reads the database, which a label lookup should not need.
            return parameters.class_codes(self.kind, self.parameters or {})
        params = parameters.validate(self.kind, self.parameters)
        return parameters.class_codes(self.kind, params)

    def label(self, code: str, language: str | None = None) -> str:
        """The label of a class in the given (default: active) language: the definition's
        own label, else the built-in translated label, else the code."""
        language = language or translation.get_language() or "en"
        own = self.labels.get(code) or {}
        lang = "zh-hans" if language.startswith("zh") else "en"
        if own.get(lang):
            return own[lang]
        if code in DEFAULT_LABELS:
            with translation.override(language):
                return str(DEFAULT_LABELS[code])
        return own.get("en") or code

    @property
    def last_run(self):
        """The latest successful run, or None."""
        return self.runs.filter(status=RunStatus.SUCCEEDED).order_by("-id").first()


class ClassificationRun(models.Model):
    """One run of a definition: when, how long, how many customers per class, what the
    model fitted (e.g. BG/NBD parameters, cut points) and, if it failed, why."""

    definition = models.ForeignKey(
        ClassificationDefinition,
        verbose_name=_("definition"),
        on_delete=models.CASCADE,
        related_name="runs",
    )
    trigger = models.CharField(_("started by"), max_length=10, choices=Trigger)
    as_of = models.DateField(_("as of"), help_text=_("Last day of the observation period."))
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration = models.FloatField(_("duration (s)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus, default=RunStatus.RUNNING
    )
    customers = models.PositiveIntegerField(_("customers"), default=0)
    counts = models.JSONField(_("customers per class"), default=dict, blank=True)
    transitions = models.PositiveIntegerField(_("changes of class"), default=0)
    ignored_future_orders = models.PositiveIntegerField(_("orders after the as-of day"), default=0)
    outputs = models.JSONField(_("model outputs"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("classification run")
        verbose_name_plural = _("classification runs")
        indexes = [models.Index(fields=["definition", "status", "-id"])]

    def __str__(self):
        return f"{self.definition} #{self.pk} {self.as_of}"


class CustomerClass(models.Model):
    """Snapshot row: the class and scores of one customer in one run. Rows are written in
    bulk by the engine and never changed, so history can be compared run against run.
    Which score columns are filled depends on the kind (e.g. RFM fills score_r/f/m)."""

    # No database-level foreign keys on the bulk-written tables: the engine writes rows
    # only for existing customers and runs, a million at a time, and a per-row constraint
    # check (a trigger on PostgreSQL) would cost more than the insert. Deleting a customer
    # or a run still removes its rows: Django's ORM performs the cascade.
    # The (run, customer) primary key's index serves lookups by run, and by customer
    # within a run (the 360 page, the API, the transition matrix). No index on the run or
    # the customer alone: every run writes a million rows, and the customer index (6 to 12
    # million entries after a few runs) was written at a random place for each, 4-10 s a
    # definition on PostgreSQL. A deleted customer's rows are deleted run by run through
    # the key's index (signals.delete_class_history), not by the ORM's cascade.
    # The pair is the key: a surrogate id cost a column, a sequence call and an index entry
    # per row, and a snapshot row is named by its run and customer anyway.
    pk = models.CompositePrimaryKey("run", "customer")
    run = models.ForeignKey(
        ClassificationRun,
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="rows",
        db_constraint=False,
        db_index=False,
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.DO_NOTHING,
        related_name="class_history",
        db_constraint=False,
        db_index=False,
    )
    code = models.CharField(_("class"), max_length=40)
    measure = models.FloatField(_("measure"), null=True, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    share = models.FloatField(_("cumulative share (%)"), null=True, blank=True)
    potential = models.BooleanField(_("potential"), default=False)
    score_r = models.PositiveSmallIntegerField(_("R score"), null=True, blank=True)
    score_f = models.PositiveSmallIntegerField(_("F score"), null=True, blank=True)
    score_m = models.PositiveSmallIntegerField(_("M score"), null=True, blank=True)
    recency_days = models.IntegerField(_("days since last purchase"), null=True, blank=True)
    frequency = models.IntegerField(_("frequency"), null=True, blank=True)
    monetary = models.FloatField(_("monetary"), null=True, blank=True)
    expectation = models.FloatField(_("expectation"), null=True, blank=True)
    p_alive = models.FloatField(_("probability alive"), null=True, blank=True)
    expected_purchases = models.FloatField(_("expected purchases"), null=True, blank=True)
    expected_aov = models.FloatField(_("expected order value"), null=True, blank=True)
    clv = models.FloatField(_("lifetime value"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        ordering = ["run", "customer"]
        verbose_name = _("customer class")
        verbose_name_plural = _("customer classes")

    def __str__(self):
        return f"{self.customer_id}: {self.code}"


class CurrentClassQuerySet(models.QuerySet):
    def of_customer(self, customer_id, *, active_only: bool = False):
        """A customer's current classes, looked up definition by definition: the
        (definition, customer) key is the only index that leads to a customer here."""
        definitions = ClassificationDefinition.objects.all()
        if active_only:
            definitions = definitions.filter(active=True)
        ids = list(definitions.values_list("id", flat=True))
        return self.filter(definition_id__in=ids, customer_id=customer_id)


class CurrentClass(models.Model):
    """The class a customer is in now, per definition: updated by each run (only the rows
    that change), read by the 360 page, plans and campaigns. `since` is when the customer
    entered the class; `reviewed_at` is when a tier was last allowed to go down; `manual`
    says the class comes from a manager's override (so a tier that must not go down does
    not keep a manual level once the override is cleared)."""

    # Bulk-written like the snapshots: no per-row constraint check, and no index on the
    # definition or the customer alone: the (definition, customer) primary key serves
    # both, a customer's classes being looked up per definition (a handful). An index on
    # the customer was written at a random place for each of a run's million rows, about
    # 1.2 s of PostgreSQL's time per definition; a deleted customer's rows are deleted
    # definition by definition (signals.delete_class_history), not by the ORM's cascade.
    # The key is the pair itself: a surrogate id cost a column, a sequence call and an
    # index per row, and nothing refers to a current class by id.
    pk = models.CompositePrimaryKey("definition", "customer")
    definition = models.ForeignKey(
        ClassificationDefinition,
        verbose_name=_("definition"),
        on_delete=models.CASCADE,
        related_name="current",
        db_constraint=False,
        db_index=False,
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.DO_NOTHING,
        related_name="current_classes",
        db_constraint=False,
        db_index=False,
    )
    code = models.CharField(_("class"), max_length=40)
    since = models.DateField(_("since"))
    reviewed_at = models.DateField(_("reviewed"))
    manual = models.BooleanField(_("set by hand"), default=False)

    objects = CurrentClassQuerySet.as_manager()

    class Meta:
        ordering = ["definition", "customer"]
        verbose_name = _("current class")
        verbose_name_plural = _("current classes")
        indexes = [models.Index(fields=["definition", "code"])]

    def __str__(self):
        return f"{self.customer_id}: {self.code}"


class ClassOverride(models.Model):
    """A class set by hand by a manager (e.g. a member level granted as a favour): every
    run keeps it until it is cleared."""

    definition = models.ForeignKey(
        ClassificationDefinition,
        verbose_name=_("definition"),
        on_delete=models.CASCADE,
        related_name="overrides",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="class_overrides",
    )
    code = models.CharField(_("class"), max_length=40)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    set_at = models.DateTimeField(_("set at"), auto_now=True)

    customer_path = "customer__"
    audited = True

    class Meta:
        ordering = ["definition", "customer"]
        verbose_name = _("manual class")
        verbose_name_plural = _("manual classes")
        constraints = [
            models.UniqueConstraint(fields=["definition", "customer"], name="one_override")
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.code}"

    def clean(self):
        if self.definition_id and self.code not in self.definition.class_codes():
            raise ValidationError(
                {
                    "code": _("%(definition)s has no class %(code)s.")
                    % {"definition": self.definition, "code": self.code}
                }
            )


class ClassTransition(models.Model):
    """A dated change of class (A to B, normal to VIP, active to at risk): the event that
    plans and campaigns react to. `from_code` is empty when a customer enters a
    definition for the first time after its first run."""

    customer_path = "customer__"

    definition = models.ForeignKey(
        ClassificationDefinition,
        verbose_name=_("definition"),
        on_delete=models.CASCADE,
        related_name="transitions",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="class_transitions",
        db_constraint=False,  # bulk-written; the ORM cascades (see CustomerClass)
    )
    run = models.ForeignKey(
        ClassificationRun,
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="transition_rows",
        db_index=False,  # the (run, to_code) index serves lookups by run
        db_constraint=False,
    )
    from_code = models.CharField(_("from"), max_length=40, blank=True)
    to_code = models.CharField(_("to"), max_length=40)
    at = models.DateTimeField(_("when"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("class transition")
        verbose_name_plural = _("class transitions")
        indexes = [
            models.Index(fields=["run", "to_code"], name="seg_transition_run"),
            models.Index(fields=["customer", "-at"], name="seg_transition_customer"),
            models.Index(fields=["definition", "-at"], name="seg_transition_definition"),
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.from_code or '-'} -> {self.to_code}"
