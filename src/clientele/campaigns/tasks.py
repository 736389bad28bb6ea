"""Background jobs: every ten minutes each active campaign adds the customers its trigger
fired for and sends the waves that are due; starting a campaign queues the same steps at
once. Steps are idempotent (unique targets, outbox keys task:wave:channel) and each
campaign is locked while one worker runs it, so runs never overlap."""

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .building import CampaignBusy, build, finish, run_due_waves
from .choices import CampaignStatus
from .models import Campaign

log = logging.getLogger(__name__)


def step(campaign: Campaign, now=None) -> dict:
    """One run of one campaign: finish it if its end has passed, else build and send."""
    now = now or timezone.now()
    if campaign.ends_at and campaign.ends_at <= now:
        return {"finished": finish(campaign, at=now)}
    if campaign.starts_at > now:
        return {}
    built = build(campaign, at=now)
    waves = run_due_waves(campaign, now=now)
    return {
        "added": built.added,
        "holdout": built.holdout,
        "waves": {w.wave: {"due": w.due, "contacted": w.contacted} for w in waves},
    }


@db_task(retries=3, retry_delay=60)
def run_campaign(campaign_id: int) -> dict:
    """Build and send one campaign now (queued when a user starts it)."""
    campaign = Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.ACTIVE).first()
    if campaign is None:
        return {}
    return step(campaign)


@db_periodic_task(crontab(minute="*/10"))
def run_active_campaigns() -> dict:
    results = {}
    for campaign in Campaign.objects.filter(status=CampaignStatus.ACTIVE).order_by("id"):
        try:
            results[campaign.pk] = step(campaign)
        except CampaignBusy:
            log.info("campaign %s is running elsewhere; skipped this time", campaign.pk)
        except Exception:  # one broken campaign must not stop the others
            log.exception("campaign %s failed", campaign.pk)
    return results


def start(campaign: Campaign) -> None:
    """Activate a draft or paused campaign and queue its first run."""
    Campaign.objects.filter(
        pk=campaign.pk, status__in=[CampaignStatus.DRAFT, CampaignStatus.PAUSED]
    ).update(status=CampaignStatus.ACTIVE, updated_at=timezone.now())
    campaign.refresh_from_db()
    run_campaign(campaign.pk)


def pause(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.ACTIVE).update(
        status=CampaignStatus.PAUSED, updated_at=timezone.now()
    )
    campaign.refresh_from_db()
