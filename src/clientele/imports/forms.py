"""Forms of the import pages: the upload, and the mapping of a file's columns to fields."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .models import ImportMode
from .schemas import schema_for
from .services import importable_kinds

IGNORE = ""


class UploadForm(forms.Form):
    """What to import, from which file, and how strictly. Only the kinds the user may
    import are offered."""

    kind = forms.ChoiceField(label=_("Contents"))
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GBK) or Excel .xlsx; the first row names the columns."),
    )
    mode = forms.ChoiceField(
        label=_("Mode"),
        choices=ImportMode.choices,
        initial=ImportMode.ALL_OR_NOTHING,
    )
    source = forms.CharField(
        label=_("Source system"),
        max_length=40,
        required=False,
        initial="import",
        help_text=_(
            "For orders: the system the order numbers come from (an order number is unique"
            " per source). Used when the file has no source column."
        ),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = importable_kinds(user)
        self.fields["kind"].widget.attrs.update({"class": "select", "data-testid": "import-kind"})
        self.fields["file"].widget.attrs.update(
            {"class": "input", "accept": ".csv,.txt,.tsv,.xlsx", "data-testid": "import-file"}
        )
        self.fields["source"].widget.attrs.update({"class": "input"})
        self.fields["mode"].widget.attrs.update({"class": "select", "data-testid": "import-mode"})


class MappingForm(forms.Form):
    """One choice per column of the file: the field it fills, or "ignore"."""

    def __init__(self, *args, job=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        fields = schema_for(job.kind).fields
        choices = [(IGNORE, _("— ignore this column —"))]
        choices += [
            (
                f.name,
                f"{capfirst(f.label)} ({f.header} / {f.header_zh}){' *' if f.required else ''}",
            )
            for f in fields
        ]
        self.columns = []
        for index, header in enumerate(job.headers):
            name = str(header).strip()
            if not name:
                continue
            key = f"column_{index}"
            self.fields[key] = forms.ChoiceField(
                label=name,
                choices=choices,
                required=False,
                initial=job.mapping.get(name) or IGNORE,
                widget=forms.Select(attrs={"class": "select", "data-testid": f"map-{index}"}),
            )
            self.columns.append((index, name, key))

    def mapping(self) -> dict[str, str | None]:
        """{header: field or None} from the cleaned choices."""
        return {name: self.cleaned_data[key] or None for _index, name, key in self.columns}
