from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "clientele.campaigns"
    label = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self):
        from clientele.core.navigation import MenuItem, register_menu

        from . import signals, tasks  # noqa: F401  (hooks and jobs register themselves)

        register_menu(
            "campaigns",
            _("Campaigns"),
            [
                MenuItem(_("Campaigns"), "campaigns:campaign_list", "campaigns.view_campaign"),
                MenuItem(_("Offers"), "campaigns:offer_list", "campaigns.view_offer"),
                MenuItem(_("My call list"), "campaigns:call_list", "campaigns.change_task"),
                MenuItem(_("Offer pop-up"), "campaigns:offer_view", "campaigns.view_offer"),
                MenuItem(_("Tasks"), "campaigns:task_list", "campaigns.view_task"),
                MenuItem(
                    _("Acceptances"),
                    "campaigns:offeracceptance_list",
                    "campaigns.view_offeracceptance",
                ),
            ],
            order=50,
        )
