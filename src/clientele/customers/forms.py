"""Forms for customers and everything on their timeline."""

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from clientele.core import permissions
from clientele.core.forms import CodeChoiceField, DateInput, DateTimeInput, ScopedModelForm
from clientele.core.models import Role, User

from . import choices
from .models import Consent, Contact, Customer, CustomField, Feedback, Interaction, Tag


class CustomerCodeMixin:
    """Forms that point at a customer take the customer's code in a text box."""

    def _customer_field(self):
        # Only customers the user may see: another team's code is "no such customer".
        queryset = Customer.objects.all()
        if self.user is not None:
            queryset = permissions.scope_queryset(queryset, self.user)
        self.fields["customer"] = CodeChoiceField(queryset, "code", label=_("customer code"))


class CustomerForm(ScopedModelForm):
    """Customer form with the administrator-defined custom fields appended."""

    class Meta:
        model = Customer
        fields = [
            "code",
            "kind",
            "name",
            "status",
            "phone",
            "phone2",
            "email",
            "email2",
            "card_number",
            "province",
            "city",
            "district",
            "address",
            "birthday",
            "gender",
            "industry",
            "size",
            "annual_demand",
            "demand_unit",
            "source",
            "owner",
            "team",
            "parent",
            "tags",
            "do_not_disturb",
            "notes",
        ]
        widgets = {"birthday": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organizations = Customer.objects.filter(kind=choices.CustomerKind.ORGANIZATION)
        if self.user is not None:  # as in the API: only organizations the user may see
            organizations = permissions.scope_queryset(organizations, self.user)
        self.fields["parent"] = CodeChoiceField(
            organizations,
            "code",
            required=False,
            label=_("parent organization (code)"),
        )
        self.fields["tags"].widget.attrs["size"] = 4
        user = self.user
        if user is not None and user.role == Role.ACCOUNT_MANAGER and not user.is_superuser:
            # An account manager can give a customer only to themselves or a teammate.
            owners = User.objects.filter(pk=user.pk)
            if user.team_id:
                owners = User.objects.filter(team_id=user.team_id)
            self.fields["owner"].queryset = owners
            self.fields["team"].queryset = self.fields["team"].queryset.filter(pk=user.team_id)
            if not self.instance.pk:
                # model_to_dict() already put None under these keys: setdefault would not do.
                if self.initial.get("owner") is None:
                    self.initial["owner"] = user.pk
                if self.initial.get("team") is None:
                    self.initial["team"] = user.team_id
        self._custom = list(CustomField.objects.all())
        zh = (get_language() or "").startswith("zh")
        for field in self._custom:
            label = field.label_zh if zh and field.label_zh else field.label
            name = f"cf_{field.key}"
            if field.type == choices.CustomFieldType.CHOICE:
                options = [("", "—")] + [(str(c), str(c)) for c in field.choices]
                form_field = forms.ChoiceField(choices=options, required=field.required)
            elif field.type == choices.CustomFieldType.DATE:
                form_field = forms.DateField(required=field.required, widget=DateInput())
            elif field.type == choices.CustomFieldType.NUMBER:
                form_field = forms.DecimalField(required=field.required)
            else:
                form_field = forms.CharField(required=field.required, max_length=500)
            form_field.label = label
            form_field.widget.attrs.setdefault("class", "input")
            self.fields[name] = form_field
            self.initial.setdefault(name, (self.instance.custom_fields or {}).get(field.key))

    def clean(self):
        cleaned = super().clean()
        values = dict(self.instance.custom_fields or {})
        for field in self._custom:
            name = f"cf_{field.key}"
            if name in self.errors:
                continue
            try:
                value = field.to_python(cleaned.get(name))
            except forms.ValidationError as error:
                self.add_error(name, error)
                continue
            if value is None:
                values.pop(field.key, None)
            else:
                values[field.key] = value
        self.instance.custom_fields = values
        return cleaned


class ContactForm(CustomerCodeMixin, ScopedModelForm):
    class Meta:
        model = Contact
        fields = [
            "customer",
            "name",
            "title",
            "decision_role",
            "phone",
            "phone2",
            "email",
            "birthday",
            "notes",
        ]
        widgets = {"birthday": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._customer_field()


class ConsentForm(CustomerCodeMixin, ScopedModelForm):
    class Meta:
        model = Consent
        fields = ["customer", "channel", "status", "recorded_at", "source"]
        widgets = {"recorded_at": DateTimeInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._customer_field()

    def clean_recorded_at(self):
        value = self.cleaned_data["recorded_at"]
        if value and value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError(_("A consent cannot be recorded in the future."))
        return value


class InteractionForm(CustomerCodeMixin, ScopedModelForm):
    class Meta:
        model = Interaction
        fields = [
            "customer",
            "contact",
            "channel",
            "direction",
            "occurred_at",
            "subject",
            "notes",
            "reached",
            "intent",
            "outcome",
        ]
        widgets = {
            "occurred_at": DateTimeInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "reached": forms.NullBooleanSelect(attrs={"class": "select"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._customer_field()
        code = self.data.get("customer") or self.initial.get("customer")
        contacts = self.fields["contact"].queryset
        if self.instance.customer_id:
            contacts = contacts.filter(customer_id=self.instance.customer_id)
        elif code:
            contacts = contacts.filter(customer__code=code)
        else:
            contacts = contacts.none()
        self.fields["contact"].queryset = contacts
        self.initial.setdefault("occurred_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))

    def save(self, commit=True):
        if not self.instance.user_id and self.user is not None:
            self.instance.user = self.user
        return super().save(commit)


class FeedbackForm(CustomerCodeMixin, ScopedModelForm):
    class Meta:
        model = Feedback
        fields = ["customer", "kind", "category", "source", "text", "status", "received_at"]
        widgets = {"received_at": DateTimeInput(), "text": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._customer_field()
        self.initial.setdefault("received_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))

    def save(self, commit=True):
        if not self.instance.user_id and self.user is not None:
            self.instance.user = self.user
        return super().save(commit)


class TagForm(ScopedModelForm):
    class Meta:
        model = Tag
        fields = ["name", "description"]


class CustomFieldForm(ScopedModelForm):
    choices = forms.CharField(
        label=_("choices"),
        required=False,
        help_text=_("For choice fields: one choice per line."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    class Meta:
        model = CustomField
        fields = ["key", "label", "label_zh", "type", "required"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["choices"] = "\n".join(map(str, self.instance.choices or []))

    def clean_choices(self):
        text = self.cleaned_data.get("choices") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def save(self, commit=True):
        self.instance.choices = self.cleaned_data.get("choices") or []
        return super().save(commit)

    def _post_clean(self):
        self.instance.choices = self.cleaned_data.get("choices") or []
        super()._post_clean()
