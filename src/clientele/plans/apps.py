from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "clientele.plans"
    label = "plans"
    verbose_name = _("Plans")

    def ready(self):
        from clientele.core.navigation import MenuItem, register_menu

        from . import signals, tasks  # noqa: F401  (Interaction hook; jobs for the worker)

        register_menu(
            "plans",
            _("Plans"),
            [
                MenuItem(_("Class plans"), "plans:classplan_list", "plans.view_classplan"),
                MenuItem(_("My duties"), "plans:my_duties", "plans.view_dutytask"),
                MenuItem(_("Duty tasks"), "plans:dutytask_list", "plans.view_dutytask"),
                MenuItem(_("Compliance"), "plans:compliance", "plans.view_dutytask"),
            ],
            order=45,
        )
