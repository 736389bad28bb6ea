"""A cheap hook: recording an Interaction closes the customer's duty tasks it fulfils at
once (one UPDATE on that customer's open tasks). Bulk imports send no signals; the daily
run closes what they fulfil."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from clientele.customers.models import Interaction


@receiver(post_save, sender=Interaction, dispatch_uid="plans_close_duty_tasks")
def close_duty_tasks(sender, instance, raw=False, **kwargs):
    if raw or not instance.customer_id:
        return
    from . import services

    services.mark_done(customer_ids=[instance.customer_id], channel=instance.channel)
