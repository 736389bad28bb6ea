"""REST endpoints of grading and classification: definitions (read; create and update for
those who may change them, with the kind's validation errors per field), a POST that runs
a definition, the run history, and the customers' classes per run."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Max
from django.utils.translation import gettext as _
from django_filters import rest_framework as drf_filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework import permissions as drf_permissions
from rest_framework.decorators import action
from rest_framework.response import Response

from clientele.core import permissions
from clientele.core.api import ScopedListViewSet, ScopedViewSet

from . import rules, services, tasks
from .constants import Kind, RunStatus
from .models import ClassificationDefinition, ClassificationRun, CustomerClass
from .parameters import DEFAULTS


class DefinitionSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=[(k, v) for k, v in Kind.choices if k in DEFAULTS])
    class_codes = serializers.SerializerMethodField()
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = ClassificationDefinition
        fields = [
            "id",
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
            "class_codes",
            "last_run",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_class_codes(self, definition) -> list[str]:
        try:
            return definition.class_codes()
        except DjangoValidationError:
            return []

    def get_last_run(self, definition) -> int | None:
        run = definition.last_run
        return run.pk if run else None

    def validate(self, attrs):
        if self.instance is not None:
            for name in ("kind", "key"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError(
                        {name: [_("Cannot change once the definition exists.")]}
                    )
        instance = self.instance or ClassificationDefinition()
        candidate = ClassificationDefinition(
            **{f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
        )
        for key, value in attrs.items():
            setattr(candidate, key, value)
        try:
            candidate.clean()  # the kind's validator: contradictory thresholds are refused
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        attrs["parameters"] = candidate.parameters
        attrs["labels"] = candidate.labels
        return attrs


class RunSerializer(serializers.ModelSerializer):
    definition = serializers.SlugRelatedField(slug_field="key", read_only=True)
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ClassificationRun
        fields = [
            "id",
            "definition",
            "trigger",
            "as_of",
            "status",
            "started_at",
            "finished_at",
            "duration",
            "customers",
            "counts",
            "transitions",
            "ignored_future_orders",
            "outputs",
            "error",
            "started_by",
        ]
        read_only_fields = fields


class CustomerClassSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="code", read_only=True)
    definition = serializers.SlugRelatedField(
        source="run.definition", slug_field="key", read_only=True
    )

    class Meta:
        model = CustomerClass
        fields = [
            "run",
            "definition",
            "customer",
            "code",
            "measure",
            "rank",
            "share",
            "potential",
            "score_r",
            "score_f",
            "score_m",
            "recency_days",
            "frequency",
            "monetary",
            "expectation",
            "p_alive",
            "expected_purchases",
            "expected_aov",
            "clv",
            "computed_at",
        ]
        read_only_fields = fields


class SegmentCountRequestSerializer(serializers.Serializer):
    expression = serializers.JSONField(
        help_text='A rule expression, e.g. {"all": [{"field": "spend", "op": ">=", "value": 299}]}'
    )


class RuleClauseErrorSerializer(serializers.Serializer):
    path = serializers.CharField()
    field = serializers.CharField()
    message = serializers.CharField()


class SegmentCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    scoped = serializers.BooleanField()
    description = serializers.CharField()


class SegmentCountErrorsSerializer(serializers.Serializer):
    errors = RuleClauseErrorSerializer(many=True)


class DefinitionViewSet(ScopedViewSet):
    """Classification definitions. POST .../{id}/run/ runs one now (needs change)."""

    queryset = ClassificationDefinition.objects.all()
    serializer_class = DefinitionSerializer
    filterset_fields = ["kind", "active", "key"]
    search_fields = ["key", "name", "name_zh"]
    ordering_fields = ["id", "position", "name", "key"]
    ordering = ["position", "name"]

    @extend_schema(request=None, responses={202: RunSerializer(many=True)})
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[drf_permissions.IsAuthenticated],
    )
    def run(self, request, pk=None):
        """Run the definition now (queued; at once when jobs run inline). Answers with
        the runs this request started, once done, or an empty list while queued."""
        permissions.require_perm(request.user, ClassificationDefinition, permissions.CHANGE)
        definition = self.get_object()
        if not definition.active:
            raise exceptions.ValidationError({"active": [_("This definition is not active.")]})
        before = definition.runs.aggregate(m=Max("id"))["m"] or 0
        tasks.start_by_hand([definition], user=request.user)
        runs = definition.runs.filter(pk__gt=before, started_by=request.user).order_by("id")
        code = status.HTTP_201_CREATED if runs else status.HTTP_202_ACCEPTED
        return Response(RunSerializer(runs, many=True).data, status=code)

    @extend_schema(
        request=SegmentCountRequestSerializer,
        responses={200: SegmentCountSerializer, 400: SegmentCountErrorsSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        permission_classes=[drf_permissions.IsAuthenticated],
    )
    def count(self, request):
        """How many customers a rule expression selects now: the live count of the rule
        builder. Account managers count their own and their team's customers only. A bad
        expression answers 400 with every error: its clause path, field and message."""
        permissions.require_perm(request.user, ClassificationDefinition, permissions.VIEW)
        if not isinstance(request.data, dict) or "expression" not in request.data:
            error = rules.RuleError("", "", _('Send {"expression": ...}.'))
            return Response({"errors": [error.as_dict()]}, status=status.HTTP_400_BAD_REQUEST)
        expression = request.data["expression"]
        try:
            found = services.count_segment(expression, request.user)
        except rules.RuleExpressionError as error:
            return Response(
                {"errors": [e.as_dict() for e in error.errors]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(
            {
                "count": found,
                "scoped": permissions.customer_scope_q(request.user, "") is not None,
                "description": rules.describe(expression),
            }
        )


class RunFilter(drf_filters.FilterSet):
    definition = drf_filters.CharFilter(field_name="definition__key", label="definition key")

    class Meta:
        model = ClassificationRun
        fields = ["definition", "status", "trigger"]


class RunViewSet(ScopedViewSet):
    """The run history: duration, counts per class, model outputs, errors."""

    queryset = ClassificationRun.objects.select_related("definition", "started_by")
    serializer_class = RunSerializer
    http_method_names = ["get", "head", "options"]
    filterset_class = RunFilter
    ordering_fields = ["id", "started_at", "duration"]


class CustomerClassFilter(drf_filters.FilterSet):
    definition = drf_filters.CharFilter(field_name="run__definition__key", label="definition key")
    run = drf_filters.NumberFilter(field_name="run_id")
    code = drf_filters.CharFilter(field_name="code", label="class code")
    customer = drf_filters.CharFilter(field_name="customer__code", label="customer code")

    class Meta:
        model = CustomerClass
        fields = ["definition", "run", "code", "customer"]


class CustomerClassViewSet(ScopedListViewSet):
    """Customers' classes and scores, one row per customer and run. Without ?run= only
    the latest successful run of each definition is listed (the current snapshot);
    ?run=<id> reads history. A row is named by its run and customer (?run=&customer=),
    not by an id of its own. Account managers see their own and their team's customers."""

    queryset = CustomerClass.objects.select_related("customer", "run__definition")
    serializer_class = CustomerClassSerializer
    http_method_names = ["get", "head", "options"]
    filterset_class = CustomerClassFilter
    ordering = ["-run", "customer"]
    ordering_fields = ["run", "rank", "measure", "clv"]

    def get_queryset(self):
        queryset = super().get_queryset()
        q = permissions.customer_scope_q(self.request.user, "customer__")
        if q is not None:
            queryset = queryset.filter(q)
        if not self.request.query_params.get("run") and self.action == "list":
            latest = (
                ClassificationRun.objects.filter(status=RunStatus.SUCCEEDED)
                .values("definition")
                .annotate(last=Max("id"))
                .values("last")
            )
            queryset = queryset.filter(run__in=latest)
        return queryset


routes = [
    ("segment-definitions", DefinitionViewSet),
    ("segment-runs", RunViewSet),
    ("customer-classes", CustomerClassViewSet),
]
