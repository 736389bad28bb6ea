"""Table base: sortable columns, export-friendly values, a link to each record."""

import inspect
import weakref

import django_tables2 as tables
from django_tables2 import utils as tables_utils


def cache_render_signatures() -> None:
    """Make django-tables2 inspect each render method's signature once, not per cell.

    It calls inspect.signature for every cell it renders (500 on a list page), which was
    about a sixth of rendering a page of a million-customer list. The signature of a
    function never changes, so the result is kept per function (weakly: a function that
    goes away takes its entry along); a bound method's depends only on its function.
    Called once from CoreConfig.ready; other callables are inspected as before."""
    original = tables_utils.signature
    if getattr(original, "cached", False):
        return
    plain: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    bound: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def signature(fn):
        if inspect.ismethod(fn):
            cache, key = bound, fn.__func__
        elif inspect.isfunction(fn):
            cache, key = plain, fn
        else:
            return original(fn)
        result = cache.get(key)
        if result is None:
            result = cache[key] = original(fn)
        return result

    signature.cached = True
    tables_utils.signature = signature


class BaseTable(tables.Table):
    """Subclasses declare Meta.model and Meta.fields; the first column links to the
    record's page."""

    class Meta:
        attrs = {"class": "table"}
        template_name = "core/table.html"
        order_by_field = "sort"
        empty_text = ""

    exclude_from_export = ()
