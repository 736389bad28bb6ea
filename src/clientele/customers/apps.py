from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "clientele.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from clientele.core.navigation import MenuItem, register_menu

        register_menu(
            "customers",
            _("Customers"),
            [
                MenuItem(_("Customers"), "customers:customer_list", "customers.view_customer"),
                MenuItem(_("Contacts"), "customers:contact_list", "customers.view_contact"),
                MenuItem(
                    _("Interactions"), "customers:interaction_list", "customers.view_interaction"
                ),
                MenuItem(_("Feedback"), "customers:feedback_list", "customers.view_feedback"),
                MenuItem(_("Consents"), "customers:consent_list", "customers.view_consent"),
                MenuItem(_("Tags"), "customers:tag_list", "customers.view_tag"),
                MenuItem(
                    _("Custom fields"), "customers:customfield_list", "customers.view_customfield"
                ),
            ],
            order=10,
        )
