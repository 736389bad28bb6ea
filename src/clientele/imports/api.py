"""REST endpoints of imports: the user's import jobs (read-only), a multipart upload that
creates and queues a job, the column mapping for a job that waits for one, and the
download of its rejected rows."""

from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from clientele.core.api import ScopedViewSet

from . import services
from .models import ImportJob, ImportKind, ImportMode, ImportStatus
from .readers import TableError


class ImportJobSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    rejects_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "mode",
            "status",
            "source",
            "original_name",
            "headers",
            "mapping",
            "total_rows",
            "processed_rows",
            "written_rows",
            "created_rows",
            "updated_rows",
            "unchanged_rows",
            "rejected_rows",
            "error_count",
            "errors",
            "message",
            "percent",
            "rejects_url",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_rejects_url(self, job) -> str | None:
        if not job.reject_file:
            return None
        request = self.context.get("request")
        url = f"/api/imports/{job.pk}/rejects/"
        return request.build_absolute_uri(url) if request else url


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField()
    mode = serializers.ChoiceField(choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
    source = serializers.CharField(max_length=40, required=False, allow_blank=True)
    mapping = serializers.JSONField(
        required=False,
        help_text="Optional {column header: field name or null to ignore the column}.",
    )

    def validate_mapping(self, value):
        return _checked_mapping(value)


class ImportMappingSerializer(serializers.Serializer):
    mapping = serializers.JSONField(help_text="{column header: field name or null}")

    def validate_mapping(self, value):
        return _checked_mapping(value)


def _checked_mapping(value):
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()
    ):
        raise serializers.ValidationError("Send an object of column header -> field name or null.")
    return value


class ImportJobViewSet(ScopedViewSet):
    """Import jobs: users see their own, administrators and marketing managers all."""

    queryset = ImportJob.objects.select_related("created_by")
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    http_method_names = ["get", "post", "head", "options"]
    filterset_fields = ["kind", "status"]
    search_fields = ["original_name"]
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return services.visible_jobs(self.request.user, super().get_queryset())

    def _require_import(self, kind):
        if not services.can_import(self.request.user, kind):
            raise exceptions.PermissionDenied("You may not import this kind of file.")

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportJobSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Upload a file; the job is queued at once when every column is matched (with
        the optional mapping), else it waits with status "mapping" for POST .../mapping/."""
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        self._require_import(data["kind"])
        try:
            job = services.start_import(
                request.user,
                data["kind"],
                data["file"],
                mode=data["mode"],
                source=data.get("source", ""),
                mapping=data.get("mapping"),
            )
        except TableError as exc:
            raise exceptions.ValidationError({"file": [services.file_error(exc)]}) from None
        except ValueError as exc:  # a mapping naming a field the kind does not have
            raise exceptions.ValidationError({"mapping": [str(exc)]}) from None
        job.refresh_from_db()
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ImportMappingSerializer, responses={200: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def mapping(self, request, pk=None):
        """Map the columns of a job waiting for its mapping, and queue it."""
        job = self.get_object()
        self._require_import(job.kind)
        if job.status != ImportStatus.MAPPING:
            raise exceptions.ValidationError({"status": ["This job is not waiting for a mapping."]})
        body = ImportMappingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            problems = services.apply_mapping(job, body.validated_data["mapping"])
        except ValueError as exc:
            raise exceptions.ValidationError({"mapping": [str(exc)]}) from None
        if problems:
            raise exceptions.ValidationError({"mapping": problems})
        job.refresh_from_db()
        return Response(self.get_serializer(job).data)

    @extend_schema(responses={200: OpenApiResponse(description="CSV of the rejected rows")})
    @action(detail=True, methods=["get"])
    def rejects(self, request, pk=None):
        """The rejected rows as CSV: row number, reasons, then the row as it was."""
        job = self.get_object()
        if not job.reject_file:
            raise Http404
        handle = job.reject_file.storage.open(job.reject_file.name, "rb")
        return FileResponse(handle, as_attachment=True, filename=f"import-{job.pk}-rejected.csv")


routes = [("imports", ImportJobViewSet)]
