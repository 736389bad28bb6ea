"""Forms of the class plans: a plan with its contact duties and volume gifts edited on the
same page (two inline formsets), a duty task's status, and the compliance page's choices."""

from django import forms
from django.utils.translation import gettext_lazy as _

from clientele.core.forms import DateInput, ScopedModelForm

from .choices import Period
from .models import ClassPlan, ContactDuty, DutyTask, VolumeGift


class _RowForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                continue
            css = "select" if isinstance(widget, forms.Select) else "input"
            widget.attrs.setdefault("class", css)


class ContactDutyForm(_RowForm):
    class Meta:
        model = ContactDuty
        fields = [
            "kind",
            "channel",
            "period",
            "min_count",
            "performer",
            "performer_user",
            "purpose",
        ]


class VolumeGiftForm(_RowForm):
    class Meta:
        model = VolumeGift
        fields = ["min_quantity", "unit", "gift", "value"]


ContactDutyFormSet = forms.inlineformset_factory(
    ClassPlan, ContactDuty, form=ContactDutyForm, extra=2, can_delete=True
)
VolumeGiftFormSet = forms.inlineformset_factory(
    ClassPlan, VolumeGift, form=VolumeGiftForm, extra=2, can_delete=True
)


class ClassPlanForm(ScopedModelForm):
    """A plan, its duties and its gifts; all three are valid or nothing is saved."""

    fee_waivers = forms.CharField(
        label=_("fee waivers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One waived fee per line."),
    )

    class Meta:
        model = ClassPlan
        fields = [
            "definition",
            "class_code",
            "name",
            "description",
            "team",
            "priority",
            "price_rate",
            "fee_waivers",
            "active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["fee_waivers"] = "\n".join(self.instance.fee_waivers or [])
        data = self.data if self.is_bound else None
        self.duties = ContactDutyFormSet(data=data, instance=self.instance, prefix="duties")
        self.gifts = VolumeGiftFormSet(data=data, instance=self.instance, prefix="gifts")

    def clean_fee_waivers(self):
        text = self.cleaned_data.get("fee_waivers") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def is_valid(self):
        valid = super().is_valid()
        # Validate every part so each shows its errors, not only the first bad one.
        duties_valid = self.duties.is_valid()
        gifts_valid = self.gifts.is_valid()
        return valid and duties_valid and gifts_valid

    def _save_m2m(self):
        super()._save_m2m()
        for formset in (self.duties, self.gifts):
            formset.instance = self.instance
            formset.save()


class DutyTaskForm(ScopedModelForm):
    """What the person doing the duty changes by hand: the status and notes."""

    class Meta:
        model = DutyTask
        fields = ["status", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def save(self, commit=True):
        from django.utils import timezone

        from .choices import TaskStatus

        task = self.instance
        if task.status == TaskStatus.DONE and task.done_at is None:
            task.done_at = timezone.now()
        elif task.status != TaskStatus.DONE:
            task.done_at = None
        return super().save(commit)


GROUP_CHOICES = [("manager", _("Account manager")), ("team", _("Team"))]


class ComplianceForm(forms.Form):
    period = forms.ChoiceField(
        label=_("period"), choices=Period.choices, initial=Period.MONTH, required=False
    )
    day = forms.DateField(label=_("a day in the period"), required=False, widget=DateInput())
    group = forms.ChoiceField(
        label=_("per"), choices=GROUP_CHOICES, initial="manager", required=False
    )
    plan = forms.ModelChoiceField(label=_("plan"), queryset=ClassPlan.objects.all(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "day":
                field.widget.attrs.setdefault("class", "select")
