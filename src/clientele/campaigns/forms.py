"""Forms for offers, campaigns and waves, the call result, and the offer pop-up."""

from django import forms
from django.utils.translation import gettext_lazy as _

from clientele.core.forms import DateTimeInput, ScopedModelForm
from clientele.customers.choices import Intent

from .choices import OfferChannel, TaskResult
from .models import Campaign, Offer, Wave

JSON_HELP = _('A segment expression in JSON, e.g. {"field": "spend", "op": ">=", "value": 299}.')


class ChannelsField(forms.MultipleChoiceField):
    """A JSON list of channels edited as check boxes."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, choices=OfferChannel.choices, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(choices=choices, **kwargs)


class OfferForm(ScopedModelForm):
    channels = ChannelsField(label=_("channels"))

    class Meta:
        model = Offer
        fields = [
            "name",
            "description",
            "script",
            "eligibility",
            "valid_from",
            "valid_until",
            "budget",
            "cost",
            "stock",
            "per_customer_limit",
            "channels",
            "priority",
            "excludes",
            "active",
        ]
        widgets = {"valid_from": DateTimeInput(), "valid_until": DateTimeInput()}
        help_texts = {"eligibility": JSON_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["excludes"].queryset = Offer.objects.exclude(pk=self.instance.pk)


class CampaignForm(ScopedModelForm):
    channels = ChannelsField(label=_("channels"))

    class Meta:
        model = Campaign
        fields = [
            "name",
            "description",
            "audience_kind",
            "segment",
            "audience_at",
            "holiday",
            "class_definition",
            "to_class",
            "days_after_first_order",
            "offers",
            "channels",
            "starts_at",
            "ends_at",
            "holdout_rate",
            "budget",
            "cost_per_contact",
            "stop_condition",
            "priority",
        ]
        widgets = {
            "audience_at": DateTimeInput(),
            "starts_at": DateTimeInput(),
            "ends_at": DateTimeInput(),
            "holiday": forms.DateInput(attrs={"type": "date"}),
        }
        help_texts = {"segment": JSON_HELP}


class WaveForm(ScopedModelForm):
    class Meta:
        model = Wave
        fields = [
            "campaign",
            "number",
            "day_offset",
            "channel",
            "subject",
            "template",
            "variants",
            "only_non_responders",
            "evaluate_after_days",
        ]


class TaskResultForm(forms.Form):
    """What the account manager (or store, hotline) records after working a task."""

    result = forms.ChoiceField(label=_("result"), choices=TaskResult.choices[:5])
    intent = forms.ChoiceField(
        label=_("intent"), choices=[("", "—"), *Intent.choices], required=False
    )
    store = forms.CharField(label=_("store"), max_length=100, required=False)
    offer = forms.ModelChoiceField(label=_("offer"), queryset=Offer.objects.none(), required=False)
    notes = forms.CharField(
        label=_("notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, task=None, **kwargs):
        super().__init__(*args, **kwargs)
        if task is not None:
            self.fields["offer"].queryset = task.campaign.offers.all()
        for field in self.fields.values():
            css = "select" if hasattr(field, "choices") else "input"
            field.widget.attrs.setdefault("class", css)

    def clean(self):
        data = super().clean()
        if data.get("result") == TaskResult.HANDED_OVER and not data.get("store"):
            self.add_error("store", _("Name the store the task is handed over to."))
        return data


class LookupForm(forms.Form):
    """Find a customer at the counter or on the phone."""

    phone = forms.CharField(label=_("phone"), max_length=30, required=False)
    card = forms.CharField(label=_("membership card"), max_length=40, required=False)
    code = forms.CharField(label=_("customer code"), max_length=40, required=False)
    channel = forms.ChoiceField(
        label=_("channel"),
        choices=[("", "—"), *OfferChannel.choices],
        required=False,
        initial=OfferChannel.STORE,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "select" if hasattr(field, "choices") else "input"
            field.widget.attrs.setdefault("class", css)


class AcceptForm(forms.Form):
    offer = forms.ModelChoiceField(label=_("offer"), queryset=Offer.objects.all())
    channel = forms.ChoiceField(label=_("channel"), choices=OfferChannel.choices)
