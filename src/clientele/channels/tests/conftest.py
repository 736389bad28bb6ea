"""Fixtures for the channels tests: customers in bulk, a contact policy without quiet
hours (so a test does not depend on the hour it runs at), and the local gateway, SMTP
server and outbox folder."""

import pytest

from clientele.channels.models import ContactPolicy
from clientele.channels.testing import LocalGateway
from clientele.customers.models import Customer


@pytest.fixture
def policy(db):
    policy = ContactPolicy.current()
    policy.quiet_hours_start = policy.quiet_hours_end = None
    policy.save()
    return policy


@pytest.fixture
def make_customers(db):
    def make(count, prefix="C", **fields):
        start = Customer.objects.count()
        rows = [
            Customer(
                code=f"{prefix}{start + i:07d}",
                name=f"Customer {start + i}",
                phone=f"+86138{start + i:08d}",
                email=f"c{start + i}@example.com",
                **fields,
            )
            for i in range(count)
        ]
        Customer.objects.bulk_create(rows, batch_size=5000)
        return list(
            Customer.objects.filter(code__in=[r.code for r in rows])
            .order_by("id")
            .values_list("id", flat=True)
        )

    return make


@pytest.fixture
def gateway():
    with LocalGateway() as running:
        yield running


@pytest.fixture
def outbox_dir(tmp_path, settings):
    settings.CLIENTELE_OUTBOX_DIR = str(tmp_path / "outbox")
    return tmp_path / "outbox"
