"""The channels' pages and API: the outbox and suppressed contacts can be looked at (not
edited), the contact policy and its channel rules can be changed, and every page checks
permissions."""

import pytest
from django.test import Client

from clientele.channels import services
from clientele.channels.models import ChannelRule, ContactPolicy, OutboxMessage, SuppressionRecord
from clientele.channels.services import NewMessage
from clientele.core.models import Role, User

pytestmark = [pytest.mark.django_db, pytest.mark.urls("clientele.channels.tests.urls")]


def _client(role):
    user = User.objects.create_user(f"user-{role}", password="x", role=role)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin():
    return _client(Role.ADMINISTRATOR)


@pytest.fixture
def message(policy, make_customers):
    ids = make_customers(1)
    services.enqueue(
        [
            NewMessage(
                channel="sms",
                customer_id=ids[0],
                recipient="+8613800000000",
                body="Hi",
                dedup_key="v:1",
            )
        ]
    )
    SuppressionRecord.objects.create(customer_id=ids[0], channel="sms", reason="opted_out")
    return OutboxMessage.objects.get()


def test_outbox_and_suppression_pages(admin, message):
    listing = admin.get("/channels/outbox/?status=pending")
    assert listing.status_code == 200 and b"+8613800000000" in listing.content
    assert admin.get(f"/channels/outbox/{message.pk}/").status_code == 200
    assert admin.get("/channels/outbox/?export=csv").status_code == 200
    record = SuppressionRecord.objects.get()
    assert admin.get("/channels/suppressions/?reason=opted_out").status_code == 200
    assert admin.get(f"/channels/suppressions/{record.pk}/").status_code == 200
    # Rows are written by campaigns and workers, never edited by hand.
    assert admin.get(f"/channels/outbox/{message.pk}/edit/").status_code == 404


def test_contact_policy_and_rules_are_edited_on_pages(admin, policy):
    response = admin.get("/channels/policy/")
    assert response.status_code == 302
    assert response["Location"] == f"/channels/policy/{ContactPolicy.SINGLETON_ID}/"
    assert admin.get(response["Location"]).status_code == 200
    assert admin.get("/channels/rules/").status_code == 200
    changed = admin.post(
        f"/channels/policy/{policy.pk}/edit/",
        {
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:30",
            "max_contacts": "3",
            "window_days": "7",
            "max_campaigns_per_day": "1",
        },
    )
    assert changed.status_code == 302
    policy.refresh_from_db()
    assert (policy.quiet_hours_start.hour, policy.quiet_hours_end.minute) == (22, 30)
    half = admin.post(
        f"/channels/policy/{policy.pk}/edit/",
        {"quiet_hours_start": "22:00", "window_days": "7", "max_campaigns_per_day": "1"},
    )
    assert half.status_code == 400
    added = admin.post(
        "/channels/rules/add/", {"channel": "email", "max_contacts": "3", "window_days": "7"}
    )
    assert added.status_code == 302
    assert ChannelRule.objects.get(channel="email").policy_id == policy.pk
    duplicate = admin.post("/channels/rules/add/", {"channel": "sms", "window_days": "7"})
    assert duplicate.status_code == 400 and b"already has a rule" in duplicate.content


def test_roles_without_channel_permissions_are_refused(message):
    analyst = _client(Role.ANALYST)  # may look at the outbox, may not change the policy
    assert analyst.get("/channels/outbox/").status_code == 200
    assert analyst.post("/channels/rules/add/", {"channel": "email"}).status_code == 403
    agent = _client(Role.SERVICE_AGENT)  # sees messages, not the policy
    assert agent.get("/channels/outbox/").status_code == 200
    assert agent.get("/channels/policy/").status_code == 403
    assert Client().get("/channels/outbox/").status_code == 302  # to the sign-in page


def test_api_lists_the_outbox_read_only(admin, message):
    listing = admin.get("/api/outbox/?status=pending")
    assert listing.status_code == 200
    row = listing.json()["results"][0]
    assert row["dedup_key"] == "v:1" and row["customer"] == message.customer.code
    assert "claimed_by" not in row
    assert admin.delete(f"/api/outbox/{message.pk}/").status_code == 405
    rules = admin.get("/api/channel-rules/").json()["results"]
    assert {r["channel"] for r in rules} == {"sms", "call_list"}
    created = admin.post(
        "/api/channel-rules/",
        {"channel": "email", "window_days": 7},
        content_type="application/json",
    )
    assert created.status_code == 201
    again = admin.post(
        "/api/channel-rules/",
        {"channel": "email", "window_days": 7},
        content_type="application/json",
    )
    assert again.status_code == 400
