"""Querysets compiled once (core.prepared): the same rows as the ORM for every kind of
value in the slots and among the constants, on SQLite and PostgreSQL; on PostgreSQL
prepared once per connection, again after a reconnect, and replaced (not piled up) when
a purpose's statement changes."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from clientele.core.prepared import PreparedQuery
from clientele.core.testing import only_on_postgres
from clientele.customers.models import Customer, Interaction

pytestmark = pytest.mark.django_db

AWKWARD = ["plain", "O'Brien", "100%", "back\\slash", "王 小明", "$1", "%s", "' OR 1=1 --"]


@pytest.fixture
def customers(db):
    created = Customer.objects.bulk_create(
        Customer(code=f"P-{n}", name=name, city=f"City {n % 3}") for n, name in enumerate(AWKWARD)
    )
    moment = timezone.now().replace(microsecond=123456)
    for customer in created:
        Interaction.objects.create(
            customer=customer, channel="phone", occurred_at=moment, subject=customer.name
        )
    return created


def by_name(name):
    return (
        Customer.objects.filter(name=name, city__icontains="city")
        .order_by("id")
        .values_list("id", "name", "code")
    )


@pytest.mark.parametrize("name", AWKWARD)
def test_text_slots_give_the_orms_rows(customers, name):
    query = PreparedQuery("test_by_name", by_name, str)
    assert query.rows(name) == list(by_name(name))
    assert query.rows(name)  # each awkward name is found, once
    assert query.rows(name + "x") == []


def test_integer_slots_and_typed_constants(customers):
    from django.db.models import Value

    since = timezone.now() - datetime.timedelta(days=1)

    def recent(customer_id):
        return (
            Interaction.objects.filter(customer_id=customer_id, occurred_at__gte=since)
            .filter(Q(subject__startswith="O'") | Q(customer__city__in=["City 0", "City 2"]))
            .annotate(limit=Value(Decimal("12.50")))
            .values_list("customer_id", "occurred_at", "limit", "reached")
        )

    query = PreparedQuery("test_recent", recent, int)
    for customer in customers:
        expected = list(recent(customer.pk))
        rows = query.rows(customer.pk)
        assert rows == expected
        for row in rows:
            # converted as the ORM converts: aware timestamps, Decimal constants
            assert timezone.is_aware(row[1])
            assert row[2] == Decimal("12.50")
    assert query.first(-5) is None


def test_a_slot_must_appear_exactly_once(customers):
    query = PreparedQuery(
        "test_twice", lambda name: Customer.objects.filter(Q(name=name) | Q(code=name)), str
    )
    with pytest.raises(ValueError, match="appears 2 times"):
        query.rows("plain")


def prepared_names():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # it closes the connection
def test_postgres_prepares_once_per_connection(customers):
    only_on_postgres()
    query = PreparedQuery("test_once", by_name, str)
    assert query.rows("plain")
    name = query.compiled.name
    assert name in prepared_names()
    before = len(prepared_names())
    assert query.rows("O'Brien")
    assert len(prepared_names()) == before  # executed, not prepared again
    connection.close()
    assert query.rows("100%") == list(by_name("100%"))  # a new connection prepares again
    assert name in prepared_names()


@pytest.mark.postgres
def test_postgres_replaces_a_purposes_old_statement(customers):
    only_on_postgres()
    first = PreparedQuery("test_purpose", by_name, str)
    first.rows("plain")
    second = PreparedQuery(
        "test_purpose", lambda name: by_name(name).filter(code__startswith="P-"), str
    )
    assert second.rows("plain") == list(by_name("plain"))
    names = prepared_names()
    assert second.compiled.name in names
    assert first.compiled.name not in names
    # The first still works: it prepares itself again in place of the second.
    assert first.rows("plain") == list(by_name("plain"))


@pytest.mark.postgres
def test_postgres_value_dependent_lookups_stay_unprepared(customers):
    only_on_postgres()
    query = PreparedQuery("test_unprepared", by_name, str, server_prepare=False)
    assert query.rows("O'Brien") == list(by_name("O'Brien"))
    assert query.compiled.prepare_text is None
    assert query.compiled.name not in prepared_names()
