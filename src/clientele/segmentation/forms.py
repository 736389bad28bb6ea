"""Forms of the classification pages: a definition (parameters and labels edited as JSON,
checked by the kind's validator), the manual class of a customer, and the run selects of
the transition matrix."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from clientele.core.forms import ScopedModelForm

from . import parameters, rules
from .constants import Kind
from .models import ClassificationDefinition


class PrettyJSONField(forms.JSONField):
    """JSON in a textarea, indented and with Chinese left readable."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 12, "class": "input code"}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)

    def clean(self, value):
        value = super().clean(value)
        return {} if value in (None, "") else value


def kind_defaults() -> list[tuple[str, str, str]]:
    """(kind, label, default parameters as indented JSON) for every kind that can be
    created, shown beside the parameters box."""
    return [
        (kind, str(Kind(kind).label), json.dumps(params, indent=2, ensure_ascii=False))
        for kind, params in parameters.DEFAULTS.items()
    ]


def rule_fields() -> list[dict]:
    """The fields and operators of rule expressions, for the edit page's reference."""
    from clientele.customers.models import CustomField

    items = [
        {"field": name, "label": str(label), "type": kind, "ops": list(ops),
         "extra": list(rules.EXTRA_KEYS.get(kind, ()))}
        for name, (kind, ops, label) in rules.FIELDS.items()
    ]  # fmt: skip
    for custom in CustomField.objects.all():
        items.append(
            {
                "field": f"custom.{custom.key}",
                "label": custom.label,
                "type": "number" if custom.type == "number" else custom.type,
                "ops": list(rules.CUSTOM_OPERATORS.get(custom.type, rules.TEXT)),
                "extra": [],
            }
        )
    return items


class DefinitionForm(ScopedModelForm):
    """Add or edit a definition. The model's clean() runs the kind's validator, so
    contradictory thresholds come back as errors on the parameters box, in its words.
    The kind cannot change once a definition exists (its runs hold that kind's classes)."""

    parameters = PrettyJSONField(
        label=_("parameters"),
        help_text=_("JSON; omitted keys take the kind's default (shown below)."),
    )
    labels = PrettyJSONField(
        label=_("class labels"),
        help_text=_('By class code: {"A": {"en": "Key account", "zh-hans": "重点客户"}}.'),
    )

    class Meta:
        model = ClassificationDefinition
        fields = [
            "key",
            "name",
            "name_zh",
            "kind",
            "description",
            "parameters",
            "labels",
            "active",
            "schedule",
            "position",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def rule_fields(self) -> list[dict]:
        return rule_fields()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        creatable = [(k, v) for k, v in Kind.choices if k in parameters.DEFAULTS]
        self.fields["kind"].choices = [("", "---------"), *creatable]
        self.kind_defaults = kind_defaults()
        if self.instance.pk:
            self.fields["kind"].disabled = True
            self.fields["key"].disabled = True


class OverrideForm(forms.Form):
    """Set a customer's class by hand in one definition."""

    target = forms.ChoiceField(label=_("class"), widget=forms.Select(attrs={"class": "select"}))
    reason = forms.CharField(
        label=_("reason"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "input"}),
    )

    def __init__(self, *args, definitions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.definitions = {str(d.pk): d for d in definitions}
        self.fields["target"].choices = [("", "---------")] + [
            (
                definition.display_name(),
                [
                    (f"{definition.pk}:{code}", definition.label(code))
                    for code in _codes(definition)
                ],
            )
            for definition in definitions
        ]

    def clean_target(self):
        pk, _sep, code = self.cleaned_data["target"].partition(":")
        definition = self.definitions.get(pk)
        if definition is None or code not in _codes(definition):
            raise forms.ValidationError(_("Choose a class."))
        return definition, code


def _codes(definition) -> list[str]:
    try:
        return definition.class_codes()
    except Exception:  # a definition whose stored parameters no longer validate
        return []


class MatrixForm(forms.Form):
    """The two runs the transition matrix compares."""

    definition = forms.ModelChoiceField(
        queryset=ClassificationDefinition.objects.all(),
        label=_("definition"),
        to_field_name="key",
        widget=forms.Select(attrs={"class": "select"}),
    )
    run_from = forms.IntegerField(label=_("from run"), required=False)
    run_to = forms.IntegerField(label=_("to run"), required=False)
