"""Adapters against real local servers: e-mail through a real SMTP server (aiosmtpd) with
a working unsubscribe link, a signed webhook, and delivery receipts posted back to us."""

import email
import json
from email import policy as email_policy

import pytest
from django.test import Client

from clientele.channels import services, signing
from clientele.channels.choices import DeliveryStatus, MessageStatus
from clientele.channels.dispatcher import Dispatcher
from clientele.channels.models import OutboxMessage
from clientele.channels.services import NewMessage
from clientele.core.testing import need
from clientele.customers.models import Consent, Interaction

pytestmark = [pytest.mark.django_db, pytest.mark.urls("clientele.channels.tests.urls")]


@pytest.fixture
def smtp_server():
    try:
        from clientele.channels.testing import LocalSmtpServer

        server = LocalSmtpServer()
    except ImportError as error:
        need("SMTP server (aiosmtpd)", False, f"pip install -e '.[test]' ({error})")
    with server:
        yield server


def _emails(customer_ids, recipients=None, marketing=True):
    services.enqueue(
        NewMessage(
            channel="email",
            customer_id=cid,
            recipient=(recipients or {}).get(cid, f"c{cid}@example.com"),
            subject="双十一 thanks",
            body=f"Dear customer {cid}, here is your coupon.",
            dedup_key=f"{cid}:1:email",
            marketing=marketing,
        )
        for cid in customer_ids
    )


def test_email_over_smtp_with_unsubscribe_link_and_bounce(
    policy, make_customers, smtp_server, settings
):
    settings.CLIENTELE_EMAIL_ADAPTER = "smtp"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.host, smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.CLIENTELE_EMAIL_FROM = "Shop <news@shop.example>"
    settings.CLIENTELE_PUBLIC_URL = "https://crm.shop.example"
    ids = make_customers(3)
    _emails(ids, recipients={ids[2]: "bounce@example.com"})

    stats = Dispatcher().run(stop_when="idle", idle_sleep=0)
    assert stats.sent == 2 and stats.failed == 1
    assert len(smtp_server.messages) == 2
    received = email.message_from_bytes(
        smtp_server.messages[0]["data"], policy=email_policy.default
    )
    assert received["Subject"] == "双十一 thanks"
    assert received["From"] == "Shop <news@shop.example>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = received["List-Unsubscribe"].strip().strip("<>")
    assert link.startswith("https://crm.shop.example/channels/unsubscribe/")
    assert link in received.get_content()
    row = OutboxMessage.objects.get(customer_id=ids[0])
    assert row.provider_message_id == received["Message-ID"]
    assert row.provider_message_id.endswith("@shop.example>")
    bounced = OutboxMessage.objects.get(customer_id=ids[2])
    assert bounced.status == MessageStatus.FAILED
    assert bounced.delivery_status == DeliveryStatus.BOUNCED
    assert bounced.error.startswith("SMTP 550")
    assert Interaction.objects.filter(channel="email").count() == 2

    # The link works: GET asks, POST records the opt-out.
    path = link.removeprefix("https://crm.shop.example")
    client = Client()
    page = client.get(path)
    assert page.status_code == 200 and b'data-testid="unsubscribe"' in page.content
    assert not Consent.objects.exists()
    done = client.post(path)
    assert done.status_code == 200 and b'data-testid="unsubscribed"' in done.content
    consent = Consent.objects.get(customer_id=row.customer_id)
    assert (consent.channel, consent.status, consent.source) == (
        "email",
        "opted_out",
        "unsubscribe link",
    )


def test_service_email_has_no_unsubscribe_link(policy, make_customers, smtp_server, settings):
    settings.CLIENTELE_EMAIL_ADAPTER = "smtp"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.host, smtp_server.port
    ids = make_customers(1)
    _emails(ids, marketing=False)
    Dispatcher().run(stop_when="idle", idle_sleep=0)
    received = email.message_from_bytes(
        smtp_server.messages[0]["data"], policy=email_policy.default
    )
    assert received["List-Unsubscribe"] is None
    assert "unsubscribe" not in received.get_content()


def test_smtp_down_is_a_transient_error(policy, make_customers, settings):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CLIENTELE_EMAIL_ADAPTER = "smtp"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    ids = make_customers(2)
    _emails(ids)
    assert Dispatcher().dispatch_batch().retried == 2
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.PENDING}


def test_unsubscribe_rejects_a_forged_token(policy, make_customers):
    ids = make_customers(1)
    token = signing.unsubscribe_token(ids[0])
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = Client().post(f"/channels/unsubscribe/{forged}/")
    assert response.status_code == 400
    assert not Consent.objects.exists()


def test_one_click_unsubscribe_from_a_mail_client(policy, make_customers):
    ids = make_customers(1)
    url = signing.unsubscribe_url(ids[0])
    path = url[url.index("/channels/") :]
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert Consent.objects.get(customer_id=ids[0]).status == "opted_out"


def test_webhook_posts_signed_json_with_the_idempotency_key(
    policy, make_customers, gateway, settings
):
    settings.CLIENTELE_WEBHOOK_URL = gateway.url + "/hook"
    settings.CLIENTELE_WEBHOOK_SECRET = "hook-secret"
    ids = make_customers(2)
    services.enqueue(
        NewMessage(
            channel="webhook",
            customer_id=cid,
            recipient=f"wx-open-id-{cid}",
            body="Your coupon",
            dedup_key=f"{cid}:0:webhook",
        )
        for cid in ids
    )
    assert Dispatcher().run(stop_when="idle", idle_sleep=0).sent == 2
    assert len(gateway.hooks) == 2
    hook = gateway.hooks[0]
    assert hook["key"] == f"{ids[0]}:0:webhook"
    assert hook["payload"]["recipient"] == f"wx-open-id-{ids[0]}"
    assert signing.verify("hook-secret", hook["body"], hook["signature"])
    assert not signing.verify("other-secret", hook["body"], hook["signature"])
    assert OutboxMessage.objects.get(customer_id=ids[0]).provider_message_id == "hook-1"
    assert Interaction.objects.filter(channel="web").count() == 2


def test_delivery_receipts_are_posted_back_signed(policy, make_customers, gateway, settings):
    settings.CLIENTELE_SMS_URL = gateway.url
    settings.CLIENTELE_PUBLIC_URL = "http://testserver"
    settings.CLIENTELE_RECEIPT_SECRET = "receipt-secret"
    ids = make_customers(2)
    services.enqueue(
        NewMessage(channel="sms", customer_id=c, recipient=f"+86{c}", body="hi", dedup_key=f"{c}:r")
        for c in ids
    )
    Dispatcher().run(stop_when="idle", idle_sleep=0)
    assert gateway.callbacks[0][0] == "http://testserver/channels/receipts/"
    client = Client()
    _url, key, provider_id = gateway.callbacks[0]
    body = json.dumps({"id": provider_id, "status": "delivered"}).encode()
    response = client.post(
        "/channels/receipts/",
        body,
        content_type="application/json",
        headers={signing.SIGNATURE_HEADER: signing.sign("receipt-secret", body)},
    )
    assert response.status_code == 200 and response.json() == {"updated": 1}
    assert OutboxMessage.objects.get(dedup_key=key).delivery_status == DeliveryStatus.DELIVERED

    batch = json.dumps(
        {
            "receipts": [
                {
                    "idempotency_key": gateway.callbacks[1][1],
                    "status": "bounced",
                    "error": "no such number",
                }
            ]
        }
    ).encode()
    forged = client.post(
        "/channels/receipts/",
        batch,
        content_type="application/json",
        headers={signing.SIGNATURE_HEADER: signing.sign("wrong-secret", batch)},
    )
    assert forged.status_code == 403
    response = client.post(
        "/channels/receipts/",
        batch,
        content_type="application/json",
        headers={signing.SIGNATURE_HEADER: signing.sign("receipt-secret", batch)},
    )
    assert response.status_code == 200
    bounced = OutboxMessage.objects.get(dedup_key=gateway.callbacks[1][1])
    assert bounced.delivery_status == DeliveryStatus.BOUNCED
    assert bounced.delivery_detail == "no such number"
    stale = signing.sign("receipt-secret", batch, timestamp=1_000_000_000)
    assert not signing.verify("receipt-secret", batch, stale)


@pytest.mark.django_db(transaction=True)
def test_the_gateway_calls_back_over_http_with_receipts(
    policy, make_customers, gateway, settings, live_server
):
    settings.CLIENTELE_SMS_URL = gateway.url
    settings.CLIENTELE_PUBLIC_URL = live_server.url
    settings.CLIENTELE_RECEIPT_SECRET = "receipt-secret"
    ids = make_customers(3)
    services.enqueue(
        NewMessage(
            channel="sms", customer_id=c, recipient=f"+86{c}", body="hi", dedup_key=f"{c}:cb"
        )
        for c in ids
    )
    Dispatcher().run(stop_when="idle", idle_sleep=0)
    assert gateway.post_receipts("receipt-secret", status="delivered") == 3
    assert OutboxMessage.objects.filter(delivery_status=DeliveryStatus.DELIVERED).count() == 3
