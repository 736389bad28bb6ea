from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "clientele.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import audit, navigation  # noqa: F401  (registers signal handlers, menu)
        from .tables import cache_render_signatures

        cache_render_signatures()

        navigation.register_menu(
            "admin",
            _("Administration"),
            [
                navigation.MenuItem(_("Users"), "core:user_list", "core.view_user"),
                navigation.MenuItem(_("Teams"), "core:team_list", "core.view_team"),
                navigation.MenuItem(_("Audit log"), "core:auditentry_list", "core.view_auditentry"),
                navigation.MenuItem(_("API documentation"), "api-docs", None),
            ],
            order=100,
        )
