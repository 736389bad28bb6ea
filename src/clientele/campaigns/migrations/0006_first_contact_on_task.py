"""When a treated customer was first contacted moves from the target to the task.

Every wave already updates each task it reaches (its last wave); the first contact was a
second update, of the target row, for every contacted customer: 1.5 s of a million-target
wave. Only treated targets are ever contacted and each has exactly one task, so nothing
is lost: the time is copied across before the target's column goes."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_first_contacts(apps, schema_editor):
    Task = apps.get_model("campaigns", "Task")
    CampaignTarget = apps.get_model("campaigns", "CampaignTarget")
    contacted = CampaignTarget.objects.filter(
        pk=OuterRef("target_id"), first_contacted_at__isnull=False
    ).values("first_contacted_at")[:1]
    Task.objects.filter(
        target_id__in=CampaignTarget.objects.filter(first_contacted_at__isnull=False).values("pk")
    ).update(first_contacted_at=Subquery(contacted))


def copy_back(apps, schema_editor):
    Task = apps.get_model("campaigns", "Task")
    CampaignTarget = apps.get_model("campaigns", "CampaignTarget")
    contacted = Task.objects.filter(
        target_id=OuterRef("pk"), first_contacted_at__isnull=False
    ).values("first_contacted_at")[:1]
    CampaignTarget.objects.filter(
        pk__in=Task.objects.filter(first_contacted_at__isnull=False).values("target_id")
    ).update(first_contacted_at=Subquery(contacted))


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0005_targets_without_holdout_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="first_contacted_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="first contacted"),
        ),
        migrations.RunPython(copy_first_contacts, copy_back),
        migrations.RemoveField(model_name="campaigntarget", name="first_contacted_at"),
    ]
