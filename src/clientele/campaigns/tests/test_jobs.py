"""The background jobs: a run of every active campaign builds and sends what is due, a
campaign being run elsewhere is skipped (never two runs at once), a campaign past its end
is finished, and an e-mail wave carries a working unsubscribe link."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from clientele.campaigns import building, tasks
from clientele.campaigns.models import Campaign, Task, Wave
from clientele.channels.models import OutboxMessage
from clientele.channels.signing import read_unsubscribe_token

from .conftest import NOW

pytestmark = pytest.mark.django_db


def test_periodic_run_builds_and_sends(campaign, policy, make_customers):
    make_customers(5)
    Campaign.objects.filter(pk=campaign.pk).update(
        holdout_rate=Decimal("0"), starts_at=timezone.now() - datetime.timedelta(hours=1)
    )
    results = tasks.run_active_campaigns.call_local()
    assert results[campaign.pk]["added"] == 5
    assert OutboxMessage.objects.filter(campaign_id=campaign.pk).count() == 5
    # A second run adds and sends nothing (the segment is built once, keys are unique).
    results = tasks.run_active_campaigns.call_local()
    assert results[campaign.pk]["added"] == 0
    assert OutboxMessage.objects.filter(campaign_id=campaign.pk).count() == 5


def test_a_campaign_locked_by_another_worker_is_skipped(campaign, policy, make_customers):
    make_customers(3)
    Campaign.objects.filter(pk=campaign.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=1)
    )
    with HUEY.lock_task(f"clientele-campaign-{campaign.pk}"):
        with pytest.raises(building.CampaignBusy):
            building.build(campaign)
        results = tasks.run_active_campaigns.call_local()
    assert campaign.pk not in results
    assert not Task.objects.exists()


def test_a_campaign_past_its_end_is_finished(campaign, policy, make_customers):
    make_customers(3)
    building.build(campaign, at=NOW)
    Campaign.objects.filter(pk=campaign.pk).update(
        ends_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    tasks.run_active_campaigns.call_local()
    campaign.refresh_from_db()
    assert campaign.status == "finished"
    assert not Task.objects.filter(status="open").exists()


def test_email_wave_with_unsubscribe_link(campaign, policy, make_customers):
    (customer_id,) = make_customers(1)
    campaign.holdout_rate = Decimal("0")
    campaign.save()
    campaign.waves.all().delete()
    Wave.objects.create(
        campaign=campaign,
        number=1,
        channel="email",
        subject="For {name}",
        template="Dear {name}, {offer}. Unsubscribe: {unsubscribe}",
    )
    building.build(campaign, at=NOW)
    building.run_due_waves(campaign, now=NOW)
    message = OutboxMessage.objects.get()
    assert message.channel == "email" and message.recipient.endswith("@example.com")
    assert message.subject.startswith("For Customer")
    token = message.body.rsplit("/unsubscribe/", 1)[1].strip("/")
    assert read_unsubscribe_token(token) == (customer_id, "email")
