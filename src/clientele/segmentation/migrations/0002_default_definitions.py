"""Create the default classification definitions once, at installation; an administrator
may then edit or delete them, and later migrations do not bring them back."""

from django.db import migrations


def create_defaults(apps, schema_editor):
    from clientele.segmentation.defaults import create_missing

    create_missing(apps.get_model("segmentation", "ClassificationDefinition"))


class Migration(migrations.Migration):
    dependencies = [("segmentation", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
