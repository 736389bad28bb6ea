"""Integer columns read into numpy arrays (core.id_arrays): the same rows as the ORM, on
SQLite and PostgreSQL, with filters and DISTINCT kept and nothing for an empty set."""

import numpy as np
import pytest

from clientele.core.id_arrays import id_array, int_columns, unique_ints
from clientele.customers.models import Customer, Interaction

pytestmark = pytest.mark.django_db


def test_columns_match_the_orm(world):
    for customer in Customer.objects.all()[:3]:
        for _ in range(2):
            Interaction.objects.create(customer=customer, channel="phone", subject="x")
    queryset = Interaction.objects.filter(channel="phone")
    pairs = int_columns(queryset.values_list("customer_id", "id"), "customer_id", "id")
    assert pairs.shape[1] == 2
    assert sorted(map(tuple, pairs.tolist())) == sorted(queryset.values_list("customer_id", "id"))
    distinct = int_columns(queryset.values_list("customer_id").distinct(), "customer_id")
    assert sorted(distinct[:, 0].tolist()) == sorted(
        set(queryset.values_list("customer_id", flat=True))
    )
    ids = id_array(Customer.objects.all())
    assert ids.dtype == np.int64
    assert sorted(ids.tolist()) == sorted(Customer.objects.values_list("pk", flat=True))


def test_an_empty_set_is_an_empty_array(db):
    assert id_array(Customer.objects.none()).shape == (0,)
    assert int_columns(Customer.objects.filter(pk=-1), "pk", "owner_id").shape == (0, 2)


@pytest.mark.parametrize(
    "values",
    [[], [5], [3, 1, 3, 2, 1], [2**62, -7, 0, 2**62, -7], list(range(1000, 0, -1)) * 2],
)
def test_unique_ints_is_numpys_unique(values):
    array = np.array(values, dtype=np.int64)
    result = unique_ints(array)
    assert result.dtype == np.int64
    assert result.tolist() == np.unique(array).tolist()


def test_large_ids_survive_the_text_round_trip(db):
    big = Customer.objects.create(pk=2**53 + 1, code="BIG", name="Big id")
    assert id_array(Customer.objects.filter(pk=big.pk)).tolist() == [2**53 + 1]
