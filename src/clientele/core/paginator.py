"""A paginator for lists that may hold millions of rows.

Counting every row of a filtered million-row table costs more than the page itself, and
nobody pages through 20,000 pages. So an unfiltered PostgreSQL table reports the
planner's estimate, and a filtered list counts at most COUNT_CAP rows; the template says
"about" or "more than" in those cases. Small lists keep their exact count."""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class LargeTablePaginator(Paginator):
    """Paginator whose count is exact up to COUNT_CAP and estimated beyond."""

    is_estimate = False
    is_capped = False

    def _queryset(self):
        # django-tables2 hands over BoundRows -> TableQuerysetData -> QuerySet.
        data = getattr(self.object_list, "data", None)
        queryset = getattr(data, "data", None)
        return queryset if hasattr(queryset, "query") else None

    @cached_property
    def count(self):
        queryset = self._queryset()
        if queryset is None:
            return super().count
        connection = connections[queryset.db]
        if not queryset.query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > COUNT_CAP:
                self.is_estimate = True
                return int(row[0])
        counted = queryset.order_by()[: COUNT_CAP + 1].count()
        if counted > COUNT_CAP:
            self.is_capped = True
        return counted
