from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "clientele.catalog"
    label = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        from clientele.core.navigation import MenuItem, register_menu

        register_menu(
            "catalog",
            _("Catalog"),
            [
                MenuItem(_("Products"), "catalog:product_list", "catalog.view_product"),
                MenuItem(
                    _("Categories"), "catalog:productcategory_list", "catalog.view_productcategory"
                ),
            ],
            order=30,
        )
