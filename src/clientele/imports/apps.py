from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "clientele.imports"
    label = "imports"
    verbose_name = _("Import and export")

    def ready(self):
        from clientele.core.navigation import MenuItem, register_menu

        register_menu(
            "data",
            _("Data"),
            [MenuItem(_("Imports"), "imports:importjob_list", "imports.view_importjob")],
            order=90,
        )
