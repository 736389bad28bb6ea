"""REST endpoints of the class plans: plans (duties and gifts shown nested, edited on
their own endpoints), duty tasks (read, and status/notes changed by the people doing
them; created only by the duty run), and starting the duty run."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions as drf_permissions
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from clientele.core import permissions
from clientele.core.api import ScopedViewSet
from clientele.segmentation.models import ClassificationDefinition

from . import services
from .models import ClassPlan, ContactDuty, DutyTask, VolumeGift


def _model_clean(model, attrs, instance=None):
    """Run the model's own clean() on the would-be record; its errors name the field."""
    candidate = (
        model(**{f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields})
        if instance
        else model()
    )
    for name, value in attrs.items():
        setattr(candidate, name, value)
    try:
        candidate.clean()
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.message_dict) from error
    return attrs


class ContactDutySerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactDuty
        fields = "__all__"

    def validate(self, attrs):
        return _model_clean(ContactDuty, attrs, self.instance)


class VolumeGiftSerializer(serializers.ModelSerializer):
    class Meta:
        model = VolumeGift
        fields = "__all__"


class ClassPlanSerializer(serializers.ModelSerializer):
    definition = serializers.SlugRelatedField(
        slug_field="key", queryset=ClassificationDefinition.objects.all()
    )
    fee_waivers = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    duties = ContactDutySerializer(many=True, read_only=True)
    gifts = VolumeGiftSerializer(many=True, read_only=True)

    class Meta:
        model = ClassPlan
        fields = "__all__"

    def validate(self, attrs):
        return _model_clean(ClassPlan, attrs, self.instance)


class DutyTaskSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = DutyTask
        fields = "__all__"
        read_only_fields = [
            f.name for f in DutyTask._meta.fields if f.name not in ("status", "notes")
        ]

    def update(self, instance, validated_data):
        from django.utils import timezone

        from .choices import TaskStatus

        status = validated_data.get("status", instance.status)
        if status == TaskStatus.DONE and instance.done_at is None:
            validated_data["done_at"] = timezone.now()
        elif status != TaskStatus.DONE:
            validated_data["done_at"] = None
        return super().update(instance, validated_data)


class ClassPlanViewSet(ScopedViewSet):
    queryset = ClassPlan.objects.select_related("definition").prefetch_related("duties", "gifts")
    serializer_class = ClassPlanSerializer
    filterset_fields = ["definition", "class_code", "active", "team"]
    search_fields = ["name", "class_code"]
    ordering_fields = ["id", "priority", "name"]

    @extend_schema(request=None, responses={200: None})
    @action(
        detail=True,
        methods=["post"],
        url_path="generate-tasks",
        permission_classes=[drf_permissions.IsAuthenticated],
    )
    def generate_tasks(self, request, pk=None):
        """Create this period's duty tasks of the plan now and close those already done."""
        permissions.require_perm(request.user, ClassPlan, permissions.CHANGE)
        plan = self.get_object()
        if not plan.active:
            raise serializers.ValidationError({"active": [_("This plan is not active.")]})
        created = services.generate_tasks(plans=ClassPlan.objects.filter(pk=plan.pk))
        done = services.mark_done()
        return Response({"created": created, "done": done})


class ContactDutyViewSet(ScopedViewSet):
    queryset = ContactDuty.objects.all()
    serializer_class = ContactDutySerializer
    filterset_fields = ["plan", "kind", "channel", "period", "performer"]
    ordering_fields = ["id"]


class VolumeGiftViewSet(ScopedViewSet):
    queryset = VolumeGift.objects.all()
    serializer_class = VolumeGiftSerializer
    filterset_fields = ["plan", "unit"]
    ordering_fields = ["id", "min_quantity"]


class DutyTaskViewSet(ScopedViewSet):
    queryset = DutyTask.objects.select_related("customer")
    serializer_class = DutyTaskSerializer
    http_method_names = ["get", "patch", "head", "options"]
    filterset_fields = ["plan", "duty", "status", "channel", "assignee", "team", "period_start"]
    search_fields = ["customer__code", "customer__name"]
    ordering_fields = ["id", "due_on", "period_start", "status"]


routes = [
    ("class-plans", ClassPlanViewSet),
    ("contact-duties", ContactDutyViewSet),
    ("volume-gifts", VolumeGiftViewSet),
    ("duty-tasks", DutyTaskViewSet),
]
