"""Form base classes: every model form knows the user, so choices of customers, owners
and teams are limited to what that user may see."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import permissions


class CodeChoiceField(forms.ModelChoiceField):
    """Choose a record by its natural key typed in a text box (a customer code, a SKU):
    a select list cannot hold a million customers."""

    widget = forms.TextInput

    def __init__(self, queryset, to_field_name, **kwargs):
        super().__init__(queryset, to_field_name=to_field_name, **kwargs)
        self.error_messages["invalid_choice"] = _("No record with this code that you may use.")

    def prepare_value(self, value):
        if hasattr(value, "_meta"):
            return getattr(value, self.to_field_name)
        if isinstance(value, int):
            obj = self.queryset.filter(pk=value).first()
            return getattr(obj, self.to_field_name) if obj else value
        return value


class ScopedModelForm(forms.ModelForm):
    """A ModelForm whose foreign keys to scoped models only offer in-scope records."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and user is not None:
                field.queryset = permissions.scope_queryset(queryset, user)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.DateInput | forms.DateTimeInput):
                continue
            css = "input"
            if isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "select"
            elif isinstance(widget, forms.CheckboxInput):
                css = "checkbox"
            widget.attrs.setdefault("class", css)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", attrs={"class": "input"}, **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", attrs={"class": "input"}, **kwargs)
