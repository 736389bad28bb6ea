"""Table base: sortable columns, export-friendly values, a link to each record."""

import django_tables2 as tables


class BaseTable(tables.Table):
    """Subclasses declare Meta.model and Meta.fields; the first column links to the
    record's page."""

    class Meta:
        attrs = {"class": "table"}
        template_name = "core/table.html"
        order_by_field = "sort"
        empty_text = ""

    exclude_from_export = ()
