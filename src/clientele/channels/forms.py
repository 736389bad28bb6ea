"""Forms for the contact policy and its channel rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from clientele.core.forms import ScopedModelForm

from .models import ChannelRule, ContactPolicy


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", attrs={"class": "input"}, **kwargs)


class ContactPolicyForm(ScopedModelForm):
    class Meta:
        model = ContactPolicy
        fields = [
            "require_opt_in",
            "quiet_hours_start",
            "quiet_hours_end",
            "max_contacts",
            "window_days",
            "max_campaigns_per_day",
        ]
        widgets = {"quiet_hours_start": TimeInput(), "quiet_hours_end": TimeInput()}

    def clean(self):
        data = super().clean()
        start, end = data.get("quiet_hours_start"), data.get("quiet_hours_end")
        if (start is None) != (end is None):
            raise forms.ValidationError(
                _("Give both the start and the end of the quiet hours, or neither.")
            )
        return data


class ChannelRuleForm(ScopedModelForm):
    class Meta:
        model = ChannelRule
        fields = [
            "channel",
            "max_contacts",
            "window_days",
            "daily_capacity",
            "manager_daily_capacity",
        ]

    def save(self, commit=True):
        # Every rule belongs to the organization's one policy.
        self.instance.policy = ContactPolicy.current()
        return super().save(commit)

    def validate_unique(self):
        # The policy is set in save(); check the one-rule-per-channel constraint here so
        # the user gets a form error instead of a database error.
        super().validate_unique()
        channel = self.cleaned_data.get("channel")
        duplicate = ChannelRule.objects.filter(
            policy_id=ContactPolicy.SINGLETON_ID, channel=channel
        ).exclude(pk=self.instance.pk)
        if channel and duplicate.exists():
            self.add_error("channel", _("This channel already has a rule."))
