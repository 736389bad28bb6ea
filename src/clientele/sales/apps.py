from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "clientele.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from clientele.core.navigation import MenuItem, register_menu

        register_menu(
            "sales",
            _("Sales"),
            [MenuItem(_("Orders"), "sales:order_list", "sales.view_order")],
            order=20,
        )
