"""Importing customers (upsert by customer code, with tags and parent organizations) and
their contacts (upsert by customer code and contact name)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_noop

from clientele.core.models import Team
from clientele.customers.models import Contact, Customer, Tag

from .import_engine import PENDING, Counts, Importer, Lookup, Row
from .import_records import (
    DUPLICATE,
    FUTURE,
    UNKNOWN_CUSTOMER,
    UNKNOWN_TEAM,
    UNKNOWN_USER,
    Upsert,
    by_key,
    shown,
)
from .schemas import CONTACTS, CUSTOMERS

PERSON_SIZE = gettext_noop("Size applies to organizations only; this customer is a person.")
ORGANIZATION_BIRTHDAY = gettext_noop("Organizations have no birthday.")
DEMAND_UNIT = gettext_noop("Give the unit of the declared annual demand (for example t).")
OWN_PARENT = gettext_noop("A customer cannot be its own parent organization.")
PARENT_LOOP = gettext_noop(
    'Parent "{value}" would make the group a loop (it is already below this customer).'
)
PARENT_REJECTED = gettext_noop(
    'The parent organization "{value}" (row {row}) was rejected, so this row cannot refer to it.'
)
UNKNOWN_PARENT = gettext_noop(
    'No customer with code "{value}" exists, neither in the database nor in this file.'
)

_MAX_DEPTH = 100


def users_by_name() -> dict[str, int]:
    return dict(get_user_model().objects.values_list("username", "pk"))


class CustomerImporter(Importer):
    """Customers by code. A parent may be an existing customer or any row of the same file
    (before or after the child); loops are refused. Empty cells keep current values."""

    schema = CUSTOMERS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen: dict[str, int] = {}
        self.accepted: set[str] = set()
        self.rejected: dict[str, int] = {}
        self.parent_of: dict[str, str] = {}  # file rows' parent codes, for loop checks
        self.pending: list[Row] = []
        self.existing = Lookup(Customer.objects.all(), "code")
        self.db_parent = Lookup(Customer.objects.all(), "code", "parent__code")
        self.users = users_by_name()
        self.teams = dict(Team.objects.values_list("name", "pk"))
        self.today = timezone.localdate(self.now)
        self.deferred: list[tuple[str, str]] = []  # (child, parent) created in this file

    # --- pass 1 ---------------------------------------------------------------------
    def check(self, rows: list[Row]) -> None:
        parents = {r.values["parent"] for r in rows if "parent" in r.values}
        self.existing.fetch(parents)
        self.db_parent.fetch(parents)  # the first step up from each parent, in one query
        for row in rows:
            values = row.values
            code = values.get("code")
            if code is not None:
                first = self.seen.setdefault(code, row.number)
                if first != row.number:
                    self.fail(row, "code", DUPLICATE, what=self.column("code"), row=first)
            self._references(row)
            self._rules(row)
            parent = values.get("parent")
            if parent is not None and parent == code:
                self.fail(row, "parent", OWN_PARENT)
            if parent is not None and parent != code:
                if parent in self.accepted or self.existing.get(parent) is not None:
                    self._link(row, parent)
                elif parent in self.rejected:
                    self.fail(
                        row, "parent", PARENT_REJECTED, value=parent, row=self.rejected[parent]
                    )
                else:
                    row.record = PENDING
                    self.pending.append(row)
                    continue
            self._conclude(row)

    def _references(self, row: Row) -> None:
        values = row.values
        if "owner" in values:
            values["owner_id"] = self.users.get(values["owner"])
            if values["owner_id"] is None:
                self.fail(row, "owner", UNKNOWN_USER, value=values["owner"])
        if "team" in values:
            values["team_id"] = self.teams.get(values["team"])
            if values["team_id"] is None:
                self.fail(row, "team", UNKNOWN_TEAM, value=values["team"])

    def _rules(self, row: Row) -> None:
        values = row.values
        kind = values.get("kind")
        if kind == "person" and "size" in values:
            self.fail(row, "size", PERSON_SIZE)
        if kind == "organization" and "birthday" in values:
            self.fail(row, "birthday", ORGANIZATION_BIRTHDAY)
        if "birthday" in values and values["birthday"] > self.today:
            self.fail(row, "birthday", FUTURE, value=shown(values["birthday"]))
        if "annual_demand" in values and "demand_unit" not in values:
            self.fail(row, "demand_unit", DEMAND_UNIT)

    def _link(self, row: Row, parent: str) -> None:
        """Accept the parent unless following it upwards comes back to this customer."""
        code = row.values.get("code")
        current = parent
        for _ in range(_MAX_DEPTH):
            if current in self.parent_of:
                current = self.parent_of[current]
            else:
                self.db_parent.fetch([current])
                current = self.db_parent.get(current)
            if current is None:
                break
            if current == code:
                self.fail(row, "parent", PARENT_LOOP, value=parent)
                return
        if code is not None and not row.errors:
            self.parent_of[code] = parent

    def _conclude(self, row: Row) -> None:
        values = row.values
        code = values.get("code")
        if row.errors:
            row.record = None
            if code is not None:
                self.rejected.setdefault(code, row.number)
            return
        self.accepted.add(code)
        parent = values.pop("parent", None)
        parent_id = self.existing.get(parent) if parent is not None else None
        deferred = parent if parent is not None and parent_id is None else None
        if parent_id is not None:
            values["parent_id"] = parent_id
        tags = values.pop("tags", None)
        for name in ("owner", "team"):
            values.pop(name, None)
        row.record = (code, values, tags, deferred)

    def finish_check(self) -> list[Row]:
        """Settle rows whose parent was not known when they were read."""
        pending, done = self.pending, []
        self.pending = []
        waiting = {r.values.get("code") for r in pending}
        progress = True
        while pending and progress:
            progress = False
            for row in list(pending):
                parent = row.values["parent"]
                if parent in self.accepted:
                    self._link(row, parent)
                elif parent in self.rejected:
                    self.fail(
                        row, "parent", PARENT_REJECTED, value=parent, row=self.rejected[parent]
                    )
                elif parent in waiting:
                    continue
                else:
                    self.fail(row, "parent", UNKNOWN_PARENT, value=parent)
                pending.remove(row)
                waiting.discard(row.values.get("code"))
                self._conclude(row)
                done.append(row)
                progress = True
        for row in pending:  # parents among themselves in a loop
            self.fail(row, "parent", PARENT_LOOP, value=row.values["parent"])
            self._conclude(row)
            done.append(row)
        return done

    # --- pass 2 ---------------------------------------------------------------------
    def write(self, batch: list) -> Counts:
        existing = Customer.objects.in_bulk([r[0] for r in batch], field_name="code")
        names = {name for r in batch if r[2] for name in r[2]}
        tag_ids = self._tag_ids(names) if names else {}
        current = self._current_tags(existing.values(), set(tag_ids.values()))
        upsert = Upsert(Customer, self.now)
        links = []
        for code, values, tags, deferred in batch:
            obj = existing.get(code)
            extra = {}
            if tags:
                have = current.get(obj.pk, set()) if obj is not None else set()
                wanted = {tag_ids[name] for name in tags}
                if wanted - have:
                    names_now = sorted(n for n, i in tag_ids.items() if i in have)
                    extra["tags"] = [names_now, sorted(set(names_now) | set(tags))]
            obj = upsert.add(obj, values, extra)
            if tags:
                links.append((obj, [tag_ids[name] for name in tags]))
            if deferred:
                self.deferred.append((code, deferred))
        counts = upsert.save()
        through = Customer.tags.through
        through.objects.bulk_create(
            [through(customer_id=obj.pk, tag_id=t) for obj, ids in links for t in ids],
            ignore_conflicts=True,
            batch_size=1000,
        )
        upsert.audit(self.user, customer_of=lambda obj: obj.pk)
        return counts

    @staticmethod
    def _tag_ids(names: set[str]) -> dict[str, int]:
        Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
        return dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))

    @staticmethod
    def _current_tags(customers, tag_ids: set[int]) -> dict[int, set[int]]:
        ids = [c.pk for c in customers]
        current: dict[int, set[int]] = {}
        if ids and tag_ids:
            rows = Customer.tags.through.objects.filter(customer_id__in=ids, tag_id__in=tag_ids)
            for customer_id, tag_id in rows.values_list("customer_id", "tag_id"):
                current.setdefault(customer_id, set()).add(tag_id)
        return current

    def finish_write(self) -> Counts:
        """Link subsidiaries to parents that this file created (ids unknown before)."""
        if not self.deferred:
            return Counts()
        codes = {c for pair in self.deferred for c in pair}
        ids = dict(Customer.objects.filter(code__in=codes).values_list("code", "pk"))
        children = Customer.objects.in_bulk(
            [child for child, _ in self.deferred], field_name="code"
        )
        upsert = Upsert(Customer, self.now)
        for child, parent in self.deferred:
            upsert.add(children[child], {"parent_id": ids[parent]})
        upsert.save()
        upsert.audit(self.user, customer_of=lambda obj: obj.pk)
        return Counts()


class ContactImporter(Importer):
    """Contacts by (customer code, contact name)."""

    schema = CONTACTS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.customers = Lookup(Customer.objects.all(), "code")
        self.seen: dict[tuple[str, str], int] = {}
        self.today = timezone.localdate(self.now)

    def check(self, rows: list[Row]) -> None:
        self.customers.fetch(r.values["customer"] for r in rows if "customer" in r.values)
        for row in rows:
            values = row.values
            code = values.pop("customer", None)
            if code is not None:
                values["customer_id"] = self.customers.get(code)
                if values["customer_id"] is None:
                    self.fail(row, "customer", UNKNOWN_CUSTOMER, value=code)
            if code is not None and "name" in values:
                first = self.seen.setdefault((code, values["name"]), row.number)
                if first != row.number:
                    what = f"{self.column('customer')} + {self.column('name')}"
                    self.fail(row, "name", DUPLICATE, what=what, row=first)
            if "birthday" in values and values["birthday"] > self.today:
                self.fail(row, "birthday", FUTURE, value=shown(values["birthday"]))
            if not row.errors:
                row.record = ((values["customer_id"], values["name"]), values)

    def write(self, batch: list) -> Counts:
        customer_ids = {key[0] for key, _ in batch}
        names = {key[1] for key, _ in batch}
        existing = by_key(
            Contact.objects.filter(customer_id__in=customer_ids, name__in=names),
            lambda c: (c.customer_id, c.name),
        )
        upsert = Upsert(Contact, self.now)
        for key, values in batch:
            upsert.add(existing.get(key), values)
        counts = upsert.save()
        upsert.audit(self.user)
        return counts
