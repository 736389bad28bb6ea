from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentationConfig(AppConfig):
    name = "clientele.segmentation"
    label = "segmentation"
    verbose_name = _("Grading and classification")

    def ready(self):
        from django.db.models.signals import post_migrate

        from clientele.core.navigation import MenuItem, register_menu

        from . import signals, tasks  # noqa: F401  (the receivers; the jobs for the worker)

        post_migrate.connect(signals.keep_order_days, sender=self)

        register_menu(
            "segments",
            _("Segments"),
            [
                MenuItem(_("Dashboard"), "segmentation:dashboard", "segmentation.view_run"),
                MenuItem(
                    _("Definitions"),
                    "segmentation:classificationdefinition_list",
                    "segmentation.view_classificationdefinition",
                ),
                MenuItem(_("Runs"), "segmentation:run_list", "segmentation.view_run"),
            ],
            order=40,
        )
