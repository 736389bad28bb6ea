"""Importing the timeline: interactions (upsert by customer, time, channel and subject)
and feedback (upsert by customer, time received and kind). Neither may lie in the future:
both record what has happened."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from clientele.customers.models import Contact, Customer, Feedback, Interaction

from .import_customers import users_by_name
from .import_engine import Counts, Importer, Lookup, Row
from .import_records import (
    DUPLICATE,
    FUTURE,
    UNKNOWN_CUSTOMER,
    UNKNOWN_USER,
    Upsert,
    by_key,
    shown,
)
from .schemas import FEEDBACK, INTERACTIONS

UNKNOWN_CONTACT = gettext_noop('Customer "{customer}" has no contact named "{value}".')
AMBIGUOUS_CONTACT = gettext_noop(
    'Customer "{customer}" has several contacts named "{value}"; rename one of them first.'
)


class TimelineImporter(Importer):
    """What interactions and feedback share: the customer and user references, the time
    that must not be in the future, and duplicate keys inside the file."""

    model = None
    time_field = ""
    key_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.customers = Lookup(Customer.objects.all(), "code")
        self.users = users_by_name()
        # hash of the key -> first row: a million keys in bounded memory.
        self.seen: dict[int, int] = {}

    def check(self, rows: list[Row]) -> None:
        self.customers.fetch(r.values["customer"] for r in rows if "customer" in r.values)
        self.prepare(rows)
        for row in rows:
            values = row.values
            code = values.get("customer")
            if code is not None and self.customers.get(code) is None:
                self.fail(row, "customer", UNKNOWN_CUSTOMER, value=code)
            if "user" in values:
                values["user_id"] = self.users.get(values["user"])
                if values["user_id"] is None:
                    self.fail(row, "user", UNKNOWN_USER, value=values["user"])
            when = values.get(self.time_field)
            if when is not None and when > self.now:
                self.fail(row, self.time_field, FUTURE, value=shown(when))
            self.check_row(row)
            if all(name in values for name in self.key_fields if name != "subject"):
                key = tuple(values.get(name) or "" for name in self.key_fields)
                first = self.seen.setdefault(hash(key), row.number)
                if first != row.number:
                    what = " + ".join(self.column(name) for name in self.key_fields)
                    self.fail(row, self.key_fields[0], DUPLICATE, what=what, row=first)
            if not row.errors:
                values["customer_id"] = self.customers.get(values.pop("customer"))
                values.pop("user", None)
                key = tuple(values.get(name) or "" for name in self.record_key)
                row.record = (key, values)

    def prepare(self, rows: list[Row]) -> None:
        """Load what the chunk's rows refer to, before they are checked one by one."""

    def check_row(self, row: Row) -> None:
        """Checks of one kind of record."""

    @property
    def record_key(self) -> tuple[str, ...]:
        return tuple("customer_id" if n == "customer" else n for n in self.key_fields)

    def write(self, batch: list) -> Counts:
        customer_ids = {key[0] for key, _ in batch}
        times = {key[1] for key, _ in batch}
        fields = self.record_key
        existing = by_key(
            self.model.objects.filter(
                customer_id__in=customer_ids, **{f"{self.time_field}__in": times}
            ),
            lambda obj: tuple(getattr(obj, name) or "" for name in fields),
        )
        upsert = Upsert(self.model, self.now)
        for key, values in batch:
            upsert.add(existing.get(key), values)
        # Interactions and feedback are not audited records; only the counts are kept.
        return upsert.save()


class InteractionImporter(TimelineImporter):
    schema = INTERACTIONS
    model = Interaction
    time_field = "occurred_at"
    key_fields = ("customer", "occurred_at", "channel", "subject")

    def prepare(self, rows: list[Row]) -> None:
        wanted = {
            (self.customers.get(r.values["customer"]), r.values["contact"])
            for r in rows
            if "contact" in r.values and "customer" in r.values
        }
        self.contacts: dict[tuple[int, str], int | None] = {}
        if not wanted:
            return
        found = Contact.objects.filter(
            customer_id__in={c for c, _ in wanted}, name__in={n for _, n in wanted}
        ).values_list("customer_id", "name", "pk")
        for customer_id, name, pk in found:
            key = (customer_id, name)
            # None marks a name shared by two contacts of one customer: ambiguous.
            self.contacts[key] = None if key in self.contacts else pk

    def check_row(self, row: Row) -> None:
        values = row.values
        name = values.pop("contact", None)
        code = values.get("customer")
        if name is None or code is None or self.customers.get(code) is None:
            return
        key = (self.customers.get(code), name)
        if key not in self.contacts:
            self.fail(row, "contact", UNKNOWN_CONTACT, customer=code, value=name)
        elif self.contacts[key] is None:
            self.fail(row, "contact", AMBIGUOUS_CONTACT, customer=code, value=name)
        else:
            values["contact_id"] = self.contacts[key]


class FeedbackImporter(TimelineImporter):
    schema = FEEDBACK
    model = Feedback
    time_field = "received_at"
    key_fields = ("customer", "received_at", "kind")
