"""FilterSet base: a free-text search box over declared fields plus the model's filters."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

TEXT_LOOKUPS = {
    "exact",
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
}


class SearchFilterSet(django_filters.FilterSet):
    """Subclasses set `search_fields`; `q` matches any of them (prefix match on codes and
    phones, substring on names)."""

    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="search", label=_("Search"))

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field in self.search_fields:
            # "customer__name" is a path, not a lookup: it gets icontains like "name".
            has_lookup = field.rsplit("__", 1)[-1] in TEXT_LOOKUPS
            lookup = field if has_lookup else f"{field}__icontains"
            condition |= Q(**{lookup: value})
        return queryset.filter(condition)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            css = "select" if hasattr(field, "choices") else "input"
            field.widget.attrs.setdefault("class", css)
