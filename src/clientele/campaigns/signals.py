"""Stop-condition hooks: an order placed by a target, or a visit recorded for one, closes
the customer's open tasks in campaigns that stop on it and marks the targets (holdout
included) responded or converted. Each hook costs one indexed query when the customer is
in no active campaign. Bulk paths (imports, the dispatcher) send no signals: they call
services.close_for_customers with their customer ids instead. One more hook keeps the
offer view's per-process offers honest when only the exclusions change."""

from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver
from django.utils import timezone

from clientele.customers.models import Interaction
from clientele.sales.models import Order

from .choices import CampaignStatus, StopCondition
from .models import CampaignTarget, Offer


def _in_active_campaign(customer_id) -> bool:
    return CampaignTarget.objects.filter(
        customer_id=customer_id, campaign__status=CampaignStatus.ACTIVE
    ).exists()


@receiver(post_save, sender=Order, dispatch_uid="campaigns-order-stop")
def order_saved(sender, instance, created, raw=False, **kwargs):
    if raw or not created or not instance.counts_as_value:
        return
    if not _in_active_campaign(instance.customer_id):
        return
    from .services import close_for_customers

    close_for_customers(
        [instance.customer_id], StopCondition.ORDER, at=instance.ordered_at, channel=""
    )


@receiver(post_save, sender=Interaction, dispatch_uid="campaigns-visit-stop")
def interaction_saved(sender, instance, created, raw=False, **kwargs):
    if raw or not created or instance.channel != "visit":
        return
    if not _in_active_campaign(instance.customer_id):
        return
    from .services import close_for_customers

    close_for_customers(
        [instance.customer_id], StopCondition.VISIT, at=instance.occurred_at, channel=""
    )


@receiver(m2m_changed, sender=Offer.excludes.through, dispatch_uid="campaigns-offer-exclusions")
def exclusions_changed(sender, instance, action, pk_set, **kwargs):
    """A change of exclusions touches the offers' change time: the offer view keeps the
    offers per process and reads them again when that time (among others) moves."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    ids = {instance.pk} | set(pk_set or ())
    Offer.objects.filter(pk__in=ids).update(updated_at=timezone.now())
