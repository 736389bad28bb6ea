from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "clientele.channels"
    label = "channels"
    verbose_name = _("Channels")

    def ready(self):
        from clientele.core.navigation import MenuItem, register_menu

        from . import tasks  # noqa: F401  (registers the jobs with the worker)

        register_menu(
            "channels",
            _("Channels"),
            [
                MenuItem(_("Outbox"), "channels:outboxmessage_list", "channels.view_outboxmessage"),
                MenuItem(
                    _("Suppressed contacts"),
                    "channels:suppressionrecord_list",
                    "channels.view_suppressionrecord",
                ),
                MenuItem(
                    _("Contact policy"), "channels:contact_policy", "channels.view_contactpolicy"
                ),
                MenuItem(
                    _("Channel rules"), "channels:channelrule_list", "channels.view_channelrule"
                ),
            ],
            order=60,
        )
