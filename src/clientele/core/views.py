"""Generic pages shared by every model: list (search, filters, sorting, pagination,
export), detail, add/edit and delete. A model gets its pages by declaring a `ModelViews`
subclass; permission checks and row scope live here so no page can forget them."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.deletion import ProtectedError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views import View
from django_tables2 import RequestConfig

from . import permissions
from .export import export_response
from .paginator import LargeTablePaginator


class ModelViews:
    """Declaration of one model's pages. Subclass and set the attributes; hooks have names
    (`get_queryset`, `get_extra_context`, `alter_object`) instead of overridden views."""

    model = None
    table = None
    filterset = None
    form = None
    detail_template = "core/object_detail.html"
    # A form with inline tables of its own extends core/object_edit.html's `inlines` block.
    edit_template = "core/object_edit.html"
    detail_fields: list[str] | None = None
    paginate_by = 50
    route: str | None = None  # URL segment; default: the model name plus "s"
    import_kind: str | None = None  # the import that fills this list, if any
    actions = ("list", "detail", "add", "edit", "delete")

    # --- hooks -------------------------------------------------------------------
    @classmethod
    def get_queryset(cls, request):
        return cls.model._default_manager.all()

    @classmethod
    def get_extra_context(cls, request, obj) -> dict:
        return {}

    @classmethod
    def alter_object(cls, obj, request):
        """Adjust a new or edited object before it is saved (e.g. default owner)."""
        return obj

    @classmethod
    def initial(cls, request) -> dict:
        return {key: value for key, value in request.GET.items() if key != "return"}

    # --- plumbing ----------------------------------------------------------------
    @classmethod
    def visible(cls, request):
        return permissions.scope_queryset(cls.get_queryset(request), request.user)

    @classmethod
    def name(cls, action: str) -> str:
        return f"{cls.model._meta.model_name}_{action}"

    @classmethod
    def url(cls, action: str, *args) -> str:
        return reverse(f"{cls.model._meta.app_label}:{cls.name(action)}", args=args)

    @classmethod
    def urls(cls):
        plural = cls.route or cls.model._meta.model_name + "s"
        routes = {
            "list": (f"{plural}/", ObjectListView),
            "add": (f"{plural}/add/", ObjectEditView),
            "detail": (f"{plural}/<int:pk>/", ObjectDetailView),
            "edit": (f"{plural}/<int:pk>/edit/", ObjectEditView),
            "delete": (f"{plural}/<int:pk>/delete/", ObjectDeleteView),
        }
        return [
            path(route, view.as_view(config=cls), name=cls.name(action))
            for action, (route, view) in routes.items()
            if action in cls.actions
        ]


class _ConfiguredView(LoginRequiredMixin, View):
    config: type[ModelViews] = None
    action = permissions.VIEW

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            permissions.require_perm(request.user, self.config.model, self.required_action())
        return super().dispatch(request, *args, **kwargs)

    def required_action(self):
        return self.action

    def get_object(self):
        return get_object_or_404(self.config.visible(self.request), pk=self.kwargs["pk"])

    def base_context(self):
        meta = self.config.model._meta
        user = self.request.user
        return {
            "config": self.config,
            "verbose_name": meta.verbose_name,
            "verbose_name_plural": meta.verbose_name_plural,
            "list_url": self.config.url("list") if "list" in self.config.actions else None,
            "can_add": "add" in self.config.actions
            and user.has_perm(permissions.perm_name(self.config.model, permissions.ADD)),
            "can_change": "edit" in self.config.actions
            and user.has_perm(permissions.perm_name(self.config.model, permissions.CHANGE)),
            "can_delete": "delete" in self.config.actions
            and user.has_perm(permissions.perm_name(self.config.model, permissions.DELETE)),
            "can_export": user.has_perm(
                permissions.perm_name(self.config.model, permissions.EXPORT)
            ),
        }


class ObjectListView(_ConfiguredView):
    """Search, filter, sort, paginate; ?export=csv|xlsx exports the filtered list."""

    template_name = "core/object_list.html"

    def required_action(self):
        if self.request.GET.get("export"):
            return permissions.EXPORT
        return permissions.VIEW

    def get(self, request):
        config = self.config
        queryset = config.visible(request)
        filterset = config.filterset(request.GET or None, queryset=queryset, request=request)
        if filterset.is_bound and not filterset.is_valid():
            queryset = queryset.none()
        else:
            queryset = filterset.qs
        # No request= here: django-tables2 would then paginate at once with its own
        # paginator, counting every row (50 ms on a million customers) before ours runs.
        # RequestConfig below hands the table the request.
        table = config.table(queryset)
        fmt = request.GET.get("export")
        if fmt in ("csv", "xlsx"):
            RequestConfig(request, paginate=False).configure(table)
            return export_response(table, fmt, str(config.model._meta.verbose_name_plural))
        RequestConfig(
            request,
            paginate={"per_page": config.paginate_by, "paginator_class": LargeTablePaginator},
        ).configure(table)
        query = request.GET.copy()
        query.pop("page", None)
        query.pop("export", None)
        context = self.base_context() | {
            "table": table,
            "filter_form": filterset.form,
            "query_string": query.urlencode(),
            "add_url": config.url("add") if "add" in config.actions else None,
            "import_url": self._import_url(),
        }
        return render(request, self.template_name, context)

    def _import_url(self):
        kind = self.config.import_kind
        if not kind or not self.request.user.has_perm(
            permissions.perm_name(self.config.model, permissions.IMPORT)
        ):
            return None
        return reverse("imports:importjob_add") + f"?kind={kind}"


class ObjectDetailView(_ConfiguredView):
    def get(self, request, pk):
        obj = self.get_object()
        fields = self.config.detail_fields or [
            f.name
            for f in obj._meta.concrete_fields
            if not f.primary_key and f.name not in ("created_at", "updated_at")
        ]
        rows = []
        for name in fields:
            field = obj._meta.get_field(name)
            display = getattr(obj, f"get_{name}_display", None)
            value = display() if callable(display) else getattr(obj, name)
            rows.append((field.verbose_name, value))
        context = self.base_context() | {
            "object": obj,
            "rows": rows,
            "edit_url": self.config.url("edit", obj.pk) if "edit" in self.config.actions else "",
            "delete_url": self.config.url("delete", obj.pk)
            if "delete" in self.config.actions
            else "",
        }
        context |= self.config.get_extra_context(request, obj)
        return render(request, self.config.detail_template, context)


class ObjectEditView(_ConfiguredView):
    """Add (no pk) and edit (pk) in one view."""

    def required_action(self):
        return permissions.CHANGE if "pk" in self.kwargs else permissions.ADD

    def _form(self, obj, data=None, files=None):
        initial = None if obj.pk else self.config.initial(self.request)
        return self.config.form(
            data=data, files=files, instance=obj, initial=initial, user=self.request.user
        )

    def _object(self):
        return self.get_object() if "pk" in self.kwargs else self.config.model()

    def get(self, request, **kwargs):
        obj = self._object()
        return self._render(obj, self._form(obj))

    def post(self, request, **kwargs):
        obj = self._object()
        form = self._form(obj, request.POST, request.FILES)
        if form.is_valid():
            with transaction.atomic():
                instance = self.config.alter_object(form.save(commit=False), request)
                instance.save()
                form.save_m2m()
                if not permissions.can_see(request.user, instance):
                    # The change would move the record outside the user's scope (say, to
                    # another team's owner): refuse, and the transaction rolls it back.
                    raise PermissionDenied
            messages.success(request, _("Saved %(object)s.") % {"object": instance})
            target = request.POST.get("return") or ""
            if target.startswith("/") and not target.startswith("//"):
                return redirect(target)
            return redirect(instance.get_absolute_url())
        return self._render(obj, form, status=400)

    def _render(self, obj, form, status=200):
        context = self.base_context() | {
            "object": obj if obj.pk else None,
            "form": form,
            "return_url": self.request.GET.get("return") or self.request.POST.get("return", ""),
        }
        return render(self.request, self.config.edit_template, context, status=status)


class ObjectDeleteView(_ConfiguredView):
    template_name = "core/object_confirm_delete.html"
    action = permissions.DELETE

    def get(self, request, pk):
        obj = self.get_object()
        return render(request, self.template_name, self.base_context() | {"object": obj})

    def post(self, request, pk):
        obj = self.get_object()
        try:
            with transaction.atomic():
                obj.delete()
        except ProtectedError:
            messages.error(
                request,
                _("%(object)s cannot be deleted while other records refer to it.")
                % {"object": obj},
            )
            return redirect(obj.get_absolute_url())
        messages.success(request, _("Deleted %(object)s.") % {"object": obj})
        return redirect(self.config.url("list"))


def scoped_object(request, model, pk):
    """Fetch one record inside the user's scope or 404: for hand-written views."""
    obj = permissions.scope_queryset(model._default_manager.filter(pk=pk), request.user).first()
    if obj is None:
        raise Http404
    return obj
