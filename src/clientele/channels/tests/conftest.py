"""Fixtures for the channels tests: customers in bulk, a contact policy without quiet
hours (so a test does not depend on the hour it runs at), and the local gateway, SMTP
server and outbox folder."""

import pytest

from clientele.channels.models import ContactPolicy
from clientele.channels.testing import LocalGateway


@pytest.fixture
def policy(db):
    policy = ContactPolicy.current()
    policy.quiet_hours_start = policy.quiet_hours_end = None
    policy.save()
    return policy


@pytest.fixture
def gateway():
    with LocalGateway() as running:
        yield running


@pytest.fixture
def outbox_dir(tmp_path, settings):
    settings.CLIENTELE_OUTBOX_DIR = str(tmp_path / "outbox")
    return tmp_path / "outbox"
