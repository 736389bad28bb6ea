"""Importing orders with their lines: one row per order line, upsert by (source, order
number). The file's lines replace the stored lines of an order; an order whose any line
is bad is rejected whole, and every bad line is still reported.

The lines of one order may be spread over the file. Pass 1 keeps one packed integer per
order (first row, customer, time, status, channel, currency) to check that all its lines
agree and to merge the header they give; pass 2 writes orders and lines in batches cut
at order boundaries, so an order's lines are usually written together and its total is
the sum of its line amounts, each rounded half-up to the cent. Orders whose lines are
apart get their totals summed once all lines are in.
"""

from __future__ import annotations

import datetime
import hashlib
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Count, Sum
from django.utils.translation import gettext_noop, ngettext

from clientele.catalog.models import Product
from clientele.core.background_copy import BackgroundCopy
from clientele.core.models import AuditEntry
from clientele.core.money import round_money
from clientele.customers.models import Customer
from clientele.sales.models import Order, OrderLine, OrderStatus, SalesChannel

from .import_engine import CHUNK, Counts, Importer, Lookup, Row, StreamingRefused, translate
from .import_records import (
    FUTURE,
    UNKNOWN_CUSTOMER,
    UNKNOWN_PRODUCT,
    insert_rows,
    plain,
    record_import,
    shown,
)
from .parsing import ParseError, parse_text
from .schemas import ORDERS

DISCOUNT_EXCEEDS = gettext_noop("The discount {discount} exceeds the line value {value}.")
AMOUNT_MISMATCH = gettext_noop(
    "The amount {amount} does not match quantity × unit price − discount = {expected}."
)
AMOUNT_TOO_LARGE = gettext_noop("The line amount {amount} is too large.")
ORDER_DIFFERS = gettext_noop(
    'Row {row} of order "{number}" has a different {column}; all lines of an order share'
    " the customer, order date, status, channel and currency."
)
ORDER_REJECTED = gettext_noop('Not imported: row {row} of the same order "{number}" was rejected.')


class ProductsDeleted(Exception):
    """Products named by the file were deleted while it was being imported."""

    def __init__(self, count: int):
        super().__init__(
            ngettext(
                "%(count)s product named in the file was deleted while it was imported;"
                " import the file again.",
                "%(count)s products named in the file were deleted while it was imported;"
                " import the file again.",
                count,
            )
            % {"count": count}
        )


_EPOCH = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)
_MICRO = datetime.timedelta(microseconds=1)
_STATUSES = (None, *OrderStatus.values)
_CHANNELS = (None, *SalesChannel.values)
_STATUS_INDEX = {value: i for i, value in enumerate(_STATUSES)}
_CHANNEL_INDEX = {value: i for i, value in enumerate(_CHANNELS)}
_AMOUNT_LIMIT = Decimal(10) ** 14
_ZERO = Decimal("0")
_LINE_HEADER = ("status", "channel", "currency")
_ROW_MASK = (1 << 32) - 1
# The packed state of an order, lowest bits first: first row (32 bits), then each header
# field at (shift, width); 0 means "no line gave it". The customer id takes the top bits.
_FIELDS = {
    "currency": (32, 16),
    "channel": (48, 4),
    "status": (52, 4),
    "ordered_at": (56, 60),
    "customer": (116, None),
}
_HEADER_FIELDS = ("customer_id", "ordered_at", "status", "channel", "currency")


def _currency_code(currency: str | None) -> int:
    if not currency:
        return 0
    a, b, c = (ord(ch) - 65 for ch in currency)
    return 1 + a * 676 + b * 26 + c


def _currency(code: int) -> str | None:
    if not code:
        return None
    code -= 1
    return "".join(chr(65 + n) for n in (code // 676, code // 26 % 26, code % 26))


def _pack(row: int, customer_id, ordered_at, status, channel, currency) -> int:
    micros = (ordered_at - _EPOCH) // _MICRO + 1 if ordered_at is not None else 0
    return (
        row
        | _currency_code(currency) << 32
        | _CHANNEL_INDEX[channel] << 48
        | _STATUS_INDEX[status] << 52
        | micros << 56
        | (customer_id or 0) << 116
    )


def _part(packed: int, name: str) -> int:
    shift, width = _FIELDS[name]
    value = packed >> shift
    return value if width is None else value & ((1 << width) - 1)


def _unpack(packed: int) -> dict:
    """The order header merged from its lines (None where no line gave a value)."""
    micros = _part(packed, "ordered_at")
    return {
        "customer_id": _part(packed, "customer") or None,
        "ordered_at": _EPOCH + (micros - 1) * _MICRO if micros else None,
        "status": _STATUSES[_part(packed, "status")],
        "channel": _CHANNELS[_part(packed, "channel")],
        "currency": _currency(_part(packed, "currency")),
    }


class OrderImporter(Importer):
    """Orders with lines. Pass 1 holds one int per order and the codes seen, not lines."""

    schema = ORDERS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.customers = Lookup(Customer.objects.all(), "code")
        self.products = Lookup(Product.objects.all(), "sku")
        self.state: dict[str, int] = {}
        self.bad: dict[str, int] = {}  # order key -> first rejected row
        self.spread: set[str] = set()  # orders whose lines are not next to each other
        self._last_key: str | None = None
        self._last_header: tuple | None = None
        self._amounts: dict[tuple, Decimal] = {}
        self._sources_stored: bool | None = None
        self.currency = settings.DEFAULT_CURRENCY  # read once: settings are a lazy object
        # order key -> id once written: spread orders, and every order when streaming
        self._written: dict[str, int] = {}
        self._spread_audit: dict[int, tuple] = {}
        self._copier: BackgroundCopy | None = None
        self._ids: list[int] = []  # order ids taken from the sequence, not yet used
        self._sequence: str | None = None  # the name of the order id sequence
        self._streaming = False  # written while checked: see streams_writes
        self._outermost = False  # the import's transaction is not inside another one
        self._side = None  # a second connection for reads while the first one copies
        self._carry: list = []  # streamed: the lines of the last order seen, not yet written
        self._late: set[int] = set()  # streamed orders that got lines after their audit
        self._products: set[int] = set()  # the products of the lines written

    @property
    def needs_rescan(self) -> bool:
        return bool(self.bad)

    def key(self, source: str | None, number: str) -> str:
        return f"{source or self.job.source}\x1f{number}"

    # --- pass 1 ---------------------------------------------------------------------
    def check(self, rows: list[Row]) -> None:
        self.customers.fetch(r.values["customer"] for r in rows if "customer" in r.values)
        self.products.fetch(r.values["sku"] for r in rows if "sku" in r.values)
        customers, products = self.customers.found, self.products.found
        for row in rows:
            values = row.values
            code = values.get("customer")
            customer_id = customers.get(code) if code is not None else None
            if code is not None and customer_id is None:
                self.fail(row, "customer", UNKNOWN_CUSTOMER, value=code)
            sku = values.get("sku")
            product_id = products.get(sku) if sku is not None else None
            if sku is not None and product_id is None:
                self.fail(row, "sku", UNKNOWN_PRODUCT, value=sku)
            ordered_at = values.get("ordered_at")
            if ordered_at is not None and ordered_at > self.now:
                self.fail(row, "ordered_at", FUTURE, value=shown(ordered_at))
            amount = self._amount(row)
            number = values.get("number")
            if number is None:
                continue  # no order to attach the line to: rejected on its own
            key = self.key(values.get("source"), number)
            header = (customer_id, ordered_at, *map(values.get, _LINE_HEADER))
            if key == self._last_key:
                key = self._last_key  # one string object per order keeps the spool small
                if header != self._last_header:
                    self._merge(row, key, header)
            else:
                if key in self.state:
                    self.spread.add(key)
                self._merge(row, key, header)
            self._last_key, self._last_header = key, header
            if row.errors:
                self.bad.setdefault(key, row.number)
            elif key not in self.bad:
                discount = values.get("discount") or _ZERO
                row.record = (
                    key,
                    product_id,
                    values["quantity"],
                    values["unit_price"],
                    discount,
                    amount,
                )

    def _amount(self, row: Row) -> Decimal | None:
        values = row.values
        quantity, price = values.get("quantity"), values.get("unit_price")
        if quantity is None or price is None:
            return None
        discount = values.get("discount") or _ZERO
        # Lines repeat (quantity, price, discount) triples; the result is computed once.
        triple = (quantity, price, discount)
        amount = self._amounts.get(triple)
        if amount is None:
            if len(self._amounts) > 50_000:
                self._amounts.clear()
            amount = self._amounts[triple] = round_money(quantity * price - discount)
        if amount < 0:
            gross = round_money(quantity * price)
            self.fail(row, "discount", DISCOUNT_EXCEEDS, discount=discount, value=gross)
        elif amount >= _AMOUNT_LIMIT:
            self.fail(row, "quantity", AMOUNT_TOO_LARGE, amount=f"{amount:,}")
        given = values.get("amount")
        if given is not None and given != amount:
            self.fail(row, "amount", AMOUNT_MISMATCH, amount=given, expected=amount)
        return amount

    def _merge(self, row: Row, key: str, header: tuple) -> None:
        """Check this line against the order's earlier lines and merge what it adds."""
        packed = _pack(row.number, *header)
        old = self.state.get(key)
        if old is None:
            self.state[key] = packed
            return
        if packed >> 32 == old >> 32:  # the usual case: the line repeats the header
            return
        merged = old
        for name, (shift, _width) in _FIELDS.items():
            mine, theirs = _part(packed, name), _part(old, name)
            if not mine:
                continue
            if not theirs:
                merged |= mine << shift
            elif mine != theirs:
                number, first = row.values["number"], old & _ROW_MASK
                column = self.column(name)
                self.fail(row, name, ORDER_DIFFERS, row=first, number=number, column=column)
        if merged != old:
            self.state[key] = merged

    def collateral(self, cells: list) -> str | None:
        """Why a good line is in the rejected-rows file: another line of its order."""
        try:
            number = parse_text(cells[self.indexes["number"]])
            source = None
            if "source" in self.indexes:
                source = parse_text(cells[self.indexes["source"]])
        except ParseError:
            return None
        key = None if number is None else self.key(source, number)
        if key is None or key not in self.bad:
            return None
        return translate(ORDER_REJECTED, row=self.bad[key], number=number)

    # --- writing while checking -------------------------------------------------------
    def streams_writes(self) -> bool:
        """On PostgreSQL, a file of orders of one source none of whose orders is stored
        yet (a first load, the large case) is written while it is checked: every order
        is new, so nothing has to be compared with stored rows, and the server stores
        one chunk while the next is parsed. The transaction is rolled back if any row
        fails. Other files (several sources, SQLite) take the two passes, and so does a
        source with stored orders (begin_streaming finds them)."""
        if connection.vendor != "postgresql" or "source" in self.indexes:
            return False
        self._outermost = not connection.in_atomic_block
        return True

    def begin_streaming(self) -> None:
        """Whether the source has stored orders, asked under a lock on the source held
        until this import commits: of two first loads of one new source at the same
        moment, the second waits here, then finds the first's orders and takes the two
        passes, updating them, instead of failing on their numbers."""
        digest = hashlib.blake2b(f"orders:{self.job.source}".encode(), digest_size=8)
        key = int.from_bytes(digest.digest(), "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        self._sources_stored = Order.objects.filter(source=self.job.source).exists()
        if self._sources_stored:
            raise StreamingRefused
        self._streaming = True

    def stream(self, records: list) -> Counts:
        """Write a checked chunk, keeping back the lines of its last order: they may go
        on in the next chunk (`finish_write` writes what is left)."""
        if self._carry:
            records = self._carry + records
        cut = len(records)
        if cut:
            last = records[-1][0]
            while cut and records[cut - 1][0] == last:
                cut -= 1
        self._carry = records[cut:]
        return self.write(records[:cut]) if cut else Counts()

    # --- pass 2 ---------------------------------------------------------------------
    @contextmanager
    def writing(self):
        """On PostgreSQL, orders, lines and audit entries are copied from a second
        thread while the next batch is prepared (see background_copy). When the import's
        transaction is the outermost one, the customer and product lookups and the order
        ids also go through a second connection, so they need not wait for a COPY: it
        sees committed rows only, and an order import writes no customers or products.
        (Inside another transaction, a test's for one, they read through the first.)"""
        if connection.vendor != "postgresql":
            yield
            return
        self._copier = BackgroundCopy(immediate_constraints=True)
        if self._outermost:
            self._side = connections.create_connection(DEFAULT_DB_ALIAS)
            self.customers.side = self.products.side = self._side
        try:
            yield
        except BaseException:
            self._copier.close(failed=True)
            raise
        finally:
            copier, self._copier = self._copier, None
            if self._side is not None:
                self._side.close()
                self._side = self.customers.side = self.products.side = None
        copier.close()

    def _settled(self) -> None:
        """Before the main thread reads or changes rows: every queued COPY has run."""
        if self._copier is not None:
            self._copier.wait()

    def batches(self, records):
        """Batches of about CHUNK lines cut only between orders, without the lines of
        orders found bad after those lines were read."""
        batch, last, bad = [], None, self.bad
        for record in records:
            key = record[0]
            if key in bad:
                continue
            if len(batch) >= CHUNK and key != last:
                yield batch
                batch = []
            batch.append(record)
            last = key
        if batch:
            yield batch

    def write(self, batch: list) -> Counts:
        groups: dict[str, list] = {}
        for record in batch:
            groups.setdefault(record[0], []).append(record)
        existing = self._existing([key for key in groups if key not in self._written])
        old_lines = self._old_lines([existing[k][0] for k in existing if k not in self.spread])
        counts = Counts()
        created, changed, lines, audit = [], [], [], []
        for key, group in groups.items():
            if key in self._written:  # more lines of an order written in an earlier batch
                order_id = self._written[key]
                lines.extend((order_id, r) for r in group)
                if order_id not in self._spread_audit:  # streamed, its audit entry written
                    self._late.add(order_id)
                continue
            header = self._header(key)
            total = round_money(sum(r[5] for r in group))
            if key not in existing:
                created.append((key, self._defaults(key, header) | {"total": total}, group))
                continue
            order_id, old = existing[key]
            given = {k: v for k, v in header.items() if v is not None}
            new_lines = sorted((r[1], r[2], r[3], r[4]) for r in group)
            if (
                key not in self.spread
                and all(old[k] == v for k, v in given.items())
                and old_lines.get(order_id) == new_lines
            ):
                counts.unchanged += 1
                continue
            changes = {k: [plain(old[k]), plain(v)] for k, v in given.items() if old[k] != v}
            changes["total"] = [plain(old["total"]), plain(total)]
            changes["lines"] = [len(old_lines.get(order_id, ())), len(group)]
            fields = old["header"] | given
            changed.append(Order(pk=order_id, total=total, updated_at=self.now, **fields))
            lines.extend((order_id, r) for r in group)
            self._remember(key, order_id, fields["customer_id"], changes, audit)
        counts.created, counts.updated = len(created), len(changed)
        if created:
            for key, order_id, fields, group in self._insert_orders(created):
                lines.extend((order_id, r) for r in group)
                if key in self.spread:  # its total and line count are patched at the end
                    changes = _created(fields, fields["total"], len(group))
                else:
                    changes = _created_json(fields, len(group))
                self._remember(key, order_id, fields["customer_id"], changes, audit)
        if changed:
            self._settled()
            OrderLine.objects.filter(order_id__in=[o.pk for o in changed]).delete()
            names = [*_HEADER_FIELDS, "total", "updated_at"]
            Order.objects.bulk_update(changed, names, batch_size=1000)
        self._products.update(r[1] for _, r in lines)
        insert_rows(
            OrderLine,
            ["order", "product", "quantity", "unit_price", "discount", "amount"],
            ((order_id, r[1], r[2], r[3], r[4], r[5]) for order_id, r in lines),
            self.now,
            self._copier,
        )
        self._audit(audit)
        return counts

    def _insert_orders(self, created: list):
        """Insert new orders as rows and yield each with its id. On PostgreSQL the ids
        are taken from the sequence first, so the rows need not be read back (and the
        COPY can run in the background); elsewhere they are read back by (source,
        number)."""
        names = ["source", "number", "customer", "ordered_at", "status", "channel"]
        names += ["currency", "total"]
        columns = ["source", "number", "customer_id", "ordered_at", "status", "channel"]
        columns += ["currency", "total"]
        if connection.vendor == "postgresql":
            ids = self._take_ids(len(created))
            rows = (
                (order_id, *(f[c] for c in columns))
                for order_id, (_, f, _) in zip(ids, created, strict=True)
            )
            insert_rows(Order, ["id", *names], rows, self.now, self._copier)
            for order_id, (key, fields, group) in zip(ids, created, strict=True):
                yield key, order_id, fields, group
            return
        insert_rows(Order, names, (tuple(f[c] for c in columns) for _, f, _ in created), self.now)
        found = Order.objects.filter(
            source__in={f["source"] for _, f, _ in created},
            number__in=[f["number"] for _, f, _ in created],
        ).values_list("source", "number", "pk")
        ids = {f"{source}\x1f{number}": pk for source, number, pk in found}
        for key, fields, group in created:
            yield key, ids[key], fields, group

    def _take_ids(self, count: int) -> list[int]:
        """`count` new order ids from the table's sequence, fetched in blocks (one query
        per block, not per batch: each query waits for the COPY in progress)."""
        if len(self._ids) < count:
            block = max(count - len(self._ids), 50_000)
            with (self._side or connection).cursor() as cursor:
                # Named once, not per row in the select list: that cost 9x the nextval.
                if self._sequence is None:
                    table = Order._meta.db_table
                    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                    (self._sequence,) = cursor.fetchone()
                cursor.execute(
                    "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                    [self._sequence, block],
                )
                self._ids.extend(row[0] for row in cursor.fetchall())
        taken, self._ids = self._ids[:count], self._ids[count:]
        return taken

    def _header(self, key: str) -> dict:
        """The header the lines gave (None where none did)."""
        return _unpack(self.state[key])

    def _defaults(self, key: str, header: dict) -> dict:
        """A new order's fields: what its lines gave, else the model's defaults."""
        source, number = key.split("\x1f", 1)
        return {
            "source": source,
            "number": number,
            "customer_id": header["customer_id"],
            "ordered_at": header["ordered_at"],
            "status": header["status"] or OrderStatus.PAID,
            "channel": header["channel"] or SalesChannel.STORE,
            "currency": header["currency"] or self.currency,
        }

    def _existing(self, keys: list[str]) -> dict[str, tuple[int, dict]]:
        """Stored orders among `keys`: id and header, for replacing or skipping them."""
        if self._sources_stored is None:
            # A first load from a new source finds nothing: skip a query per batch. Orders
            # of this import are no obstacle: each key reaches here once.
            sources = {key.split("\x1f", 1)[0] for key in self.state}
            self._sources_stored = Order.objects.filter(source__in=sources).exists()
        if not keys or not self._sources_stored:
            return {}
        self._settled()
        pairs = [key.split("\x1f", 1) for key in keys]
        wanted = set(keys)
        rows = Order.objects.filter(
            source__in={s for s, _ in pairs}, number__in={n for _, n in pairs}
        ).values_list("pk", "source", "number", *_HEADER_FIELDS, "total")
        found = {}
        for pk, source, number, *rest in rows:
            key = f"{source}\x1f{number}"
            if key in wanted:
                old = dict(zip((*_HEADER_FIELDS, "total"), rest, strict=True))
                old["header"] = {k: old[k] for k in _HEADER_FIELDS}
                found[key] = (pk, old)
        return found

    @staticmethod
    def _old_lines(order_ids: list[int]) -> dict[int, list]:
        lines: dict[int, list] = {}
        if order_ids:
            rows = OrderLine.objects.filter(order_id__in=order_ids).values_list(
                "order_id", "product_id", "quantity", "unit_price", "discount"
            )
            for order_id, *line in rows:
                lines.setdefault(order_id, []).append(tuple(line))
        return {k: sorted(v) for k, v in lines.items()}

    def _remember(self, key: str, order_id: int, customer_id: int, changes, audit) -> None:
        """Queue the audit entry; for a spread order, wait until its total is known."""
        number = key.split("\x1f", 1)[1]
        if key in self.spread:
            self._written[key] = order_id
            self._spread_audit[order_id] = (customer_id, number, changes)
        else:
            audit.append((order_id, customer_id, number, changes))
            if self._streaming:  # its lines may go on later in the file
                self._written[key] = order_id

    def _audit(self, entries: list) -> None:
        record_import(Order, entries, self.user, self.now, self._copier)

    def finish_write(self) -> Counts:
        """Totals (and line counts in the audit entries) of orders whose lines were
        spread over several batches; when streaming, first the last order's lines."""
        counts = Counts()
        if self._carry:
            counts += self.write(self._carry)
            self._carry = []
        self._settled()
        self._hold_products()
        if self._streaming:
            self._refresh_streamed()
        ids = list(self._spread_audit)
        for start in range(0, len(ids), CHUNK):
            sums = (
                OrderLine.objects.filter(order_id__in=ids[start : start + CHUNK])
                .values("order_id")
                .annotate(total=Sum("amount"), count=Count("id"))
                .values_list("order_id", "total", "count")
            )
            orders, entries = [], []
            for pk, total, count in sums:
                order = Order(pk=pk, total=round_money(total or 0))
                customer_id, text, changes = self._spread_audit[pk]
                changes["total"] = [changes["total"][0], plain(order.total)]
                changes["lines"] = [changes["lines"][0], count]
                orders.append(order)
                entries.append((pk, customer_id, text, changes))
            Order.objects.bulk_update(orders, ["total"], batch_size=1000)
            self._audit(entries)
        return counts

    def _hold_products(self) -> None:
        """Order lines have no database-level foreign keys (see OrderLine): make sure
        every product the written lines name still exists, and on PostgreSQL lock them
        against deletion (FOR KEY SHARE, as a foreign key would) until the import
        commits. A product deleted since pass 1 looked it up fails the import whole."""
        ids = sorted(self._products)
        found: set[int] = set()
        table = connection.ops.quote_name(Product._meta.db_table)
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT id FROM {table} WHERE id = ANY(%s) FOR KEY SHARE", [part]
                    )
                    found.update(row[0] for row in cursor.fetchall())
            else:  # SQLite: the write transaction already keeps others from deleting
                found.update(Product.objects.filter(pk__in=part).values_list("pk", flat=True))
        missing = self._products - found
        if missing:
            raise ProductsDeleted(len(missing))

    def _refresh_streamed(self) -> None:
        """Streamed orders whose lines went on after they were written may have gained
        header fields from the later lines (a status the first line left out): write
        the header of the whole order, and record their audit entries once more from
        it (those already written for them are removed)."""
        late = list(self._late)
        for start in range(0, len(late), CHUNK):
            AuditEntry.objects.filter(
                action=AuditEntry.Action.IMPORT,
                object_type=Order._meta.label_lower,
                object_id__in=late[start : start + CHUNK],
                at=self.now,
            ).delete()
        wanted = self._late | set(self._spread_audit)
        orders = []
        for key, order_id in self._written.items():
            if order_id in wanted:
                fields = self._defaults(key, self._header(key))
                orders.append(Order(pk=order_id, **{k: fields[k] for k in _HEADER_FIELDS}))
                number = key.split("\x1f", 1)[1]
                changes = _created(fields, _ZERO, 0)  # total and lines: finish_write
                self._spread_audit[order_id] = (fields["customer_id"], number, changes)
        Order.objects.bulk_update(orders, list(_HEADER_FIELDS), batch_size=1000)


def _created(fields: dict, total: Decimal, lines: int) -> dict:
    """The audit change set of a new order."""
    return {
        "customer_id": [None, fields["customer_id"]],
        "ordered_at": [None, fields["ordered_at"].isoformat()],
        "status": [None, fields["status"]],
        "channel": [None, fields["channel"]],
        "currency": [None, fields["currency"]],
        "total": [None, str(total)],
        "lines": [None, lines],
    }


def _created_json(fields: dict, lines: int) -> str:
    """`_created` already encoded as JSON, for the audit entry of each new order: one
    f-string instead of a dict and json.dumps (about 5% of a large import). Safe to
    build by hand: status and channel are choices, the currency is three letters A-Z
    (see `_currency_code`), the rest are numbers and an ISO time."""
    customer = fields["customer_id"]
    return (
        f'{{"customer_id": [null, {"null" if customer is None else customer}], '
        f'"ordered_at": [null, "{fields["ordered_at"].isoformat()}"], '
        f'"status": [null, "{fields["status"]}"], "channel": [null, "{fields["channel"]}"], '
        f'"currency": [null, "{fields["currency"]}"], "total": [null, "{fields["total"]}"], '
        f'"lines": [null, {lines}]}}'
    )
