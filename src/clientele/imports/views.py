"""Import pages: the list and detail of import jobs (declared on the generic views), the
upload, the column mapping, the progress fragment the detail page polls, and the
download of rejected rows."""

import os
from itertools import islice

import django_filters
import django_tables2 as tables
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views import View

from clientele.core import permissions
from clientele.core.filters import SearchFilterSet
from clientele.core.tables import BaseTable
from clientele.core.views import ModelViews, ObjectListView

from . import import_engine, services
from .forms import MappingForm, UploadForm
from .models import ImportJob, ImportKind, ImportStatus
from .readers import TableError, open_table
from .schemas import SCHEMAS

RUNNING = (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportJobTable(BaseTable):
    created_at = tables.DateTimeColumn(linkify=True, verbose_name=_("started"))
    original_name = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = ImportJob
        fields = (
            "created_at",
            "kind",
            "original_name",
            "status",
            "total_rows",
            "created_rows",
            "updated_rows",
            "rejected_rows",
            "created_by",
        )


class ImportJobFilterSet(SearchFilterSet):
    search_fields = ("original_name",)
    kind = django_filters.ChoiceFilter(choices=ImportKind.choices, label=_("Contents"))
    status = django_filters.ChoiceFilter(choices=ImportStatus.choices, label=_("Status"))

    class Meta:
        model = ImportJob
        fields = ["q", "kind", "status"]


class ImportJobListView(ObjectListView):
    """The generic list, with a "New import" button for users who may import."""

    template_name = "imports/importjob_list.html"


class ImportJobViews(ModelViews):
    model = ImportJob
    table = ImportJobTable
    filterset = ImportJobFilterSet
    route = "jobs"
    actions = ("list", "detail")
    detail_template = "imports/importjob_detail.html"

    @classmethod
    def get_queryset(cls, request):
        return services.visible_jobs(request.user, ImportJob.objects.select_related("created_by"))

    @classmethod
    def get_extra_context(cls, request, job):
        return {
            "job": live(job),
            "running": job.status in RUNNING,
            "can_import": bool(services.importable_kinds(request.user)),
        }

    @classmethod
    def urls(cls):
        patterns = super().urls()
        list_name = cls.name("list")
        return [
            path("jobs/", ImportJobListView.as_view(config=cls), name=list_name)
            if p.name == list_name
            else p
            for p in patterns
        ]


def live(job: ImportJob) -> ImportJob:
    """The job with the newest counters: a job running in this process publishes them
    before its transaction lets the database show them."""
    values = import_engine.LIVE.get(job.pk)
    if values and job.status in RUNNING:
        for name, value in values.items():
            setattr(job, name, max(value, getattr(job, name)))
    return job


def _visible_job(request, pk) -> ImportJob:
    permissions.require_perm(request.user, ImportJob, permissions.VIEW)
    return get_object_or_404(ImportJobViews.get_queryset(request), pk=pk)


class UploadView(LoginRequiredMixin, View):
    """Upload a file. The header row is read at once: a file whose columns all match is
    queued; otherwise the mapping page asks about the rest."""

    template_name = "imports/importjob_add.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            kinds = services.importable_kinds(request.user)
            wanted = request.POST.get("kind") if request.method == "POST" else None
            if not kinds or (
                wanted in services.IMPORT_PERMISSIONS
                and not services.can_import(request.user, wanted)
            ):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        initial = {"kind": request.GET.get("kind")} if request.GET.get("kind") else None
        return self._render(UploadForm(user=request.user, initial=initial))

    def post(self, request):
        form = UploadForm(request.POST, request.FILES, user=request.user)
        if not form.is_valid():
            return self._render(form, status=400)
        data = form.cleaned_data
        try:
            job = services.start_import(
                request.user, data["kind"], data["file"], mode=data["mode"], source=data["source"]
            )
        except TableError as exc:
            form.add_error("file", services.file_error(exc))
            return self._render(form, status=400)
        if job.status == ImportStatus.MAPPING:
            return redirect("imports:importjob_mapping", job.pk)
        return redirect(job.get_absolute_url())

    def _render(self, form, status=200):
        kinds = dict(services.importable_kinds(self.request.user))
        schemas = [(label, SCHEMAS[kind]) for kind, label in kinds.items()]
        context = {"form": form, "schemas": schemas, "list_url": ImportJobViews.url("list")}
        return render(self.request, self.template_name, context, status=status)


class MappingView(LoginRequiredMixin, View):
    """Map each column of the file to a field (or ignore it), then queue the job."""

    template_name = "imports/importjob_mapping.html"

    def _job(self, request, pk) -> ImportJob:
        job = _visible_job(request, pk)
        if not services.can_import(request.user, job.kind):
            raise PermissionDenied
        return job

    def get(self, request, pk):
        job = self._job(request, pk)
        if job.status != ImportStatus.MAPPING:
            return redirect(job.get_absolute_url())
        match = services.match_columns(job.kind, job.headers, job.mapping)
        return self._render(job, MappingForm(job=job), services.column_problems(job.kind, match))

    def post(self, request, pk):
        job = self._job(request, pk)
        if job.status != ImportStatus.MAPPING:
            return redirect(job.get_absolute_url())
        form = MappingForm(request.POST, job=job)
        if not form.is_valid():
            return self._render(job, form, [], status=400)
        problems = services.apply_mapping(job, form.mapping())
        if problems:
            return self._render(job, MappingForm(job=job), problems, status=400)
        return redirect(job.get_absolute_url())

    def _render(self, job, form, problems, status=200):
        samples = _samples(job)
        rows = [
            (name, form[key], [s[index] if index < len(s) else "" for s in samples])
            for index, name, key in form.columns
        ]
        context = {
            "job": job,
            "form": form,
            "rows": rows,
            "problems": problems,
            "list_url": ImportJobViews.url("list"),
        }
        return render(self.request, self.template_name, context, status=status)


def _samples(job: ImportJob, count: int = 3) -> list[list]:
    """The first rows of the file, to show what each column holds."""
    try:
        with job.file.storage.open(job.file.name, "rb") as handle:
            with open_table(handle, job.original_name) as table:
                return [cells for _number, cells in islice(table, count)]
    except (TableError, OSError):
        return []


class ProgressView(LoginRequiredMixin, View):
    """The progress fragment, polled every second while the job runs; once it is done the
    page reloads to show the results."""

    def get(self, request, pk):
        job = live(_visible_job(request, pk))
        running = job.status in RUNNING
        response = render(request, "imports/_progress.html", {"job": job, "running": running})
        if not running and request.headers.get("HX-Request"):
            response["HX-Refresh"] = "true"
        return response


class RejectsView(LoginRequiredMixin, View):
    """Download the rejected rows (with their row numbers and reasons) as CSV."""

    def get(self, request, pk):
        job = _visible_job(request, pk)
        if not job.reject_file:
            raise Http404
        try:
            handle = job.reject_file.storage.open(job.reject_file.name, "rb")
        except OSError:
            raise Http404 from None
        stem = os.path.splitext(job.original_name)[0] or "import"
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"{stem}-rejected.csv",
            content_type="text/csv; charset=utf-8",
        )
