"""Pages of the customer domain: declarations on the generic views, plus the 360 page."""

from clientele.core.views import ModelViews
from clientele.plans.services import customer_plan
from clientele.segmentation.views import customer_classes

from . import filters, forms, services, tables
from .models import Consent, Contact, Customer, CustomField, Feedback, Interaction, Tag


class CustomerViews(ModelViews):
    model = Customer
    import_kind = "customers"
    table = tables.CustomerTable
    filterset = filters.CustomerFilterSet
    form = forms.CustomerForm
    detail_template = "customers/customer_360.html"

    @classmethod
    def get_queryset(cls, request):
        return Customer.objects.select_related("owner", "team")

    @classmethod
    def get_extra_context(cls, request, customer):
        user = request.user
        group_ids = customer.group_ids() if customer.subsidiaries.exists() else None
        return {
            "value": services.value_summary([customer.pk]),
            "customer_classes": customer_classes(request, customer),
            "customer_plan": customer_plan(customer)
            if user.has_perm("plans.view_classplan")
            else None,
            "group_value": services.value_summary(group_ids) if group_ids else None,
            "group_size": len(group_ids) if group_ids else 0,
            "subsidiaries": customer.subsidiaries.all()[:50],
            "contacts": customer.contacts.all(),
            "consents": customer.consents.all(),
            "tags": customer.tags.all(),
            "orders": customer.orders.all()[:20],
            "timeline": services.timeline(customer),
            "feedback_list": customer.feedback.all()[:20],
            "history": services.change_history(customer),
            "custom_values": _custom_values(customer),
            "interaction_form": forms.InteractionForm(
                user=user, initial={"customer": customer.code}
            ),
            "feedback_form": forms.FeedbackForm(user=user, initial={"customer": customer.code}),
            "can_add_interaction": user.has_perm("customers.add_interaction"),
            "can_add_feedback": user.has_perm("customers.add_feedback"),
            "can_add_contact": user.has_perm("customers.add_contact"),
            "can_view_history": user.has_perm("customers.view_customer"),
        }


def _custom_values(customer):
    fields = CustomField.objects.all()
    values = customer.custom_fields or {}
    return [(f, values.get(f.key)) for f in fields if values.get(f.key) not in (None, "")]


class ContactViews(ModelViews):
    model = Contact
    import_kind = "contacts"
    table = tables.ContactTable
    filterset = filters.ContactFilterSet
    form = forms.ContactForm

    @classmethod
    def get_queryset(cls, request):
        return Contact.objects.select_related("customer")


class ConsentViews(ModelViews):
    model = Consent
    table = tables.ConsentTable
    filterset = filters.ConsentFilterSet
    form = forms.ConsentForm

    @classmethod
    def get_queryset(cls, request):
        return Consent.objects.select_related("customer")


class InteractionViews(ModelViews):
    model = Interaction
    import_kind = "interactions"
    table = tables.InteractionTable
    filterset = filters.InteractionFilterSet
    form = forms.InteractionForm

    @classmethod
    def get_queryset(cls, request):
        return Interaction.objects.select_related("customer", "user")


class FeedbackViews(ModelViews):
    model = Feedback
    import_kind = "feedback"
    route = "feedback"
    table = tables.FeedbackTable
    filterset = filters.FeedbackFilterSet
    form = forms.FeedbackForm

    @classmethod
    def get_queryset(cls, request):
        return Feedback.objects.select_related("customer")


class TagViews(ModelViews):
    model = Tag
    table = tables.TagTable
    filterset = filters.TagFilterSet
    form = forms.TagForm


class CustomFieldViews(ModelViews):
    model = CustomField
    route = "custom-fields"
    table = tables.CustomFieldTable
    filterset = filters.CustomFieldFilterSet
    form = forms.CustomFieldForm
