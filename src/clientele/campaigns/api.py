"""REST endpoints of the campaigns: offers, campaigns, waves, targets, tasks and
acceptances; accepting an offer and recording a task's result (the closed loop); and the
unified offer view for one customer (by id, or looked up by phone, card or code).

`routes` is registered on the main router like every app's; `api_urls` holds the one
endpoint whose path lives under /api/customers/ (add it before the router's URLs)."""

from django.db.models import Q
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from clientele.core.api import ScopedViewSet
from clientele.core.permissions import scope_queryset
from clientele.customers.models import Customer

from . import offer_view, services, tasks
from .choices import OfferChannel, TaskResult
from .models import Campaign, CampaignTarget, Offer, OfferAcceptance, Task, Wave


def needs(*perms):
    """A permission class requiring every named model permission (for actions whose HTTP
    method says nothing about what they change)."""

    class Needs(permissions.BasePermission):
        def has_permission(self, request, view):
            user = request.user
            return bool(user and user.is_authenticated and user.has_perms(perms))

    return Needs


def _check_expression(value):
    if value in (None, {}, ""):
        return value
    from clientele.segmentation import rules

    errors = rules.validate(value)
    if errors:
        raise serializers.ValidationError([str(error) for error in errors])
    return value


def _check_channels(value, allowed):
    if not isinstance(value, list) or any(item not in allowed for item in value):
        raise serializers.ValidationError(
            _("Choose from: %(choices)s.") % {"choices": ", ".join(allowed)}
        )
    return value


class OfferSerializer(serializers.ModelSerializer):
    excludes = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Offer.objects.all(), required=False
    )

    class Meta:
        model = Offer
        fields = "__all__"
        read_only_fields = ["spent", "used", "created_at", "updated_at"]

    def validate_eligibility(self, value):
        return _check_expression(value)

    def validate_channels(self, value):
        return _check_channels(value, OfferChannel.values)

    def validate(self, attrs):
        start = attrs.get("valid_from", getattr(self.instance, "valid_from", None))
        end = attrs.get("valid_until", getattr(self.instance, "valid_until", None))
        if start and end and end <= start:
            raise serializers.ValidationError(
                {"valid_until": [_("The end must come after the start.")]}
            )
        return attrs


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = "__all__"
        read_only_fields = [
            "status",
            "spent",
            "built_at",
            "checked_until",
            "created_at",
            "updated_at",
        ]

    def validate_segment(self, value):
        return _check_expression(value)

    def validate_channels(self, value):
        return _check_channels(value, OfferChannel.values)

    def validate(self, attrs):
        instance = Campaign(**{k: v for k, v in attrs.items() if k != "offers"})
        if self.instance is not None:
            for field in Campaign._meta.concrete_fields:
                if field.name not in attrs:
                    setattr(instance, field.attname, getattr(self.instance, field.attname))
        try:
            instance.clean()
        except Exception as error:  # ValidationError with a message dict
            if hasattr(error, "message_dict"):
                raise serializers.ValidationError(error.message_dict) from None
            raise
        return attrs


class WaveSerializer(serializers.ModelSerializer):
    class Meta:
        model = Wave
        fields = "__all__"
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        instance = Wave(**attrs)
        if self.instance is not None:
            for field in Wave._meta.concrete_fields:
                if field.name not in attrs:
                    setattr(instance, field.attname, getattr(self.instance, field.attname))
        try:
            instance.clean()
        except Exception as error:
            if hasattr(error, "message_dict"):
                raise serializers.ValidationError(error.message_dict) from None
            raise
        return attrs


class CampaignTargetSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = CampaignTarget
        fields = "__all__"
        read_only_fields = [f.name for f in CampaignTarget._meta.fields]


class TaskSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Task
        fields = "__all__"
        read_only_fields = [f.name for f in Task._meta.fields]


class OfferAcceptanceSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = OfferAcceptance
        fields = "__all__"
        read_only_fields = [f.name for f in OfferAcceptance._meta.fields]


class AcceptSerializer(serializers.Serializer):
    customer = serializers.CharField(help_text=_("Customer code (or id)."))
    channel = serializers.ChoiceField(choices=OfferChannel.choices)
    task = serializers.IntegerField(required=False)


class ResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=TaskResult.choices)
    channel = serializers.ChoiceField(choices=OfferChannel.choices, default="call_list")
    reached = serializers.BooleanField(required=False, allow_null=True, default=None)
    intent = serializers.CharField(required=False, allow_blank=True, default="")
    store = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    offer = serializers.PrimaryKeyRelatedField(
        queryset=Offer.objects.all(), required=False, allow_null=True
    )

    def validate(self, attrs):
        if attrs["result"] == TaskResult.HANDED_OVER and not attrs.get("store"):
            raise serializers.ValidationError(
                {"store": [_("Name the store the task is handed over to.")]}
            )
        return attrs


def _unavailable(error: services.OfferUnavailable):
    return Response({"detail": str(error), "code": error.code}, status=status.HTTP_409_CONFLICT)


class OfferViewSet(ScopedViewSet):
    queryset = Offer.objects.prefetch_related("excludes")
    serializer_class = OfferSerializer
    filterset_fields = ["active"]
    search_fields = ["name", "description"]
    ordering_fields = ["id", "name", "priority"]

    @extend_schema(request=AcceptSerializer, responses={201: OfferAcceptanceSerializer})
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[needs("campaigns.add_offeracceptance")],
    )
    def accept(self, request, pk=None):
        """The customer takes the offer in a channel: closes their tasks everywhere."""
        offer = self.get_object()
        payload = AcceptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        visible = scope_queryset(Customer.objects.all(), request.user)
        reference = payload.validated_data["customer"]
        condition = Q(code=reference)
        if reference.isdigit():
            condition |= Q(pk=int(reference))
        customer = visible.filter(condition).first()
        if customer is None:
            raise exceptions.ValidationError({"customer": [_("No such customer you may see.")]})
        task = None
        if payload.validated_data.get("task"):
            task = (
                scope_queryset(Task.objects.all(), request.user)
                .filter(pk=payload.validated_data["task"], customer=customer)
                .first()
            )
            if task is None:
                raise exceptions.ValidationError({"task": [_("No such task for this customer.")]})
        try:
            with self.as_user():
                acceptance = services.accept_offer(
                    customer, offer, payload.validated_data["channel"], request.user, task=task
                )
        except services.OfferUnavailable as error:
            return _unavailable(error)
        return Response(OfferAcceptanceSerializer(acceptance).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("phone", str),
            OpenApiParameter("card", str),
            OpenApiParameter("code", str),
            OpenApiParameter("channel", str, enum=OfferChannel.values),
        ],
        responses={200: None},
    )
    @action(
        detail=False,
        methods=["get"],
        permission_classes=[needs("campaigns.view_offer", "customers.view_customer")],
    )
    def lookup(self, request):
        """The unified offer view for the customer with this phone, card or code."""
        params = request.query_params
        if not any(params.get(key) for key in ("phone", "card", "code")):
            raise exceptions.ValidationError(
                {"phone": [_("Give a phone, a card number or a customer code.")]}
            )
        customer_id = offer_view.find_customer_id(
            phone=params.get("phone", ""),
            card=params.get("card", ""),
            code=params.get("code", ""),
            user=request.user,
        )
        data = None
        if customer_id is not None:
            data = offer_view.present(
                customer_id, channel=params.get("channel") or None, user=request.user
            )
        if data is None:
            raise exceptions.NotFound(_("No customer with these details."))
        return Response(data)


class CampaignViewSet(ScopedViewSet):
    queryset = Campaign.objects.prefetch_related("offers")
    serializer_class = CampaignSerializer
    filterset_fields = ["status", "audience_kind", "stop_condition"]
    search_fields = ["name", "description"]
    ordering_fields = ["id", "name", "starts_at", "priority"]

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"], permission_classes=[needs("campaigns.change_campaign")])
    def start(self, request, pk=None):
        campaign = self.get_object()
        tasks.start(campaign)
        return Response({"status": campaign.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: None})
    @action(detail=True, methods=["post"], permission_classes=[needs("campaigns.change_campaign")])
    def pause(self, request, pk=None):
        campaign = self.get_object()
        tasks.pause(campaign)
        return Response({"status": campaign.status})


class WaveViewSet(ScopedViewSet):
    queryset = Wave.objects.all()
    serializer_class = WaveSerializer
    filterset_fields = ["campaign", "channel"]
    ordering_fields = ["id", "number"]


class CampaignTargetViewSet(ScopedViewSet):
    queryset = CampaignTarget.objects.select_related("customer")
    serializer_class = CampaignTargetSerializer
    http_method_names = ["get", "head", "options"]
    filterset_fields = ["campaign", "in_holdout"]
    ordering_fields = ["id", "built_at"]


class TaskViewSet(ScopedViewSet):
    queryset = Task.objects.select_related("customer", "campaign")
    serializer_class = TaskSerializer
    http_method_names = ["get", "head", "options", "post"]
    filterset_fields = ["campaign", "status", "owner", "result", "customer"]
    search_fields = ["customer__code", "customer__name"]
    ordering_fields = ["id", "closed_at"]

    def create(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed("POST")

    @extend_schema(request=ResultSerializer, responses={200: TaskSerializer})
    @action(detail=True, methods=["post"], permission_classes=[needs("campaigns.change_task")])
    def result(self, request, pk=None):
        """Record a call's, store's or hotline's result: accepted and declined close the
        task everywhere; the others record the attempt and leave it open."""
        task = self.get_object()
        payload = ResultSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if task.status != "open":
            return Response(
                {"detail": str(_("This task was already closed in another channel."))},
                status=status.HTTP_409_CONFLICT,
            )
        outcome = services.CallResult(
            reached=data.get("reached"),
            intent=data.get("intent", ""),
            result=data["result"],
            store=data.get("store", ""),
            notes=data.get("notes", ""),
            offer=data.get("offer"),
        )
        try:
            with self.as_user():
                services.record_result(task, outcome, channel=data["channel"], user=request.user)
        except services.OfferUnavailable as error:
            return _unavailable(error)
        task.refresh_from_db()
        return Response(TaskSerializer(task).data)


class OfferAcceptanceViewSet(ScopedViewSet):
    queryset = OfferAcceptance.objects.select_related("customer")
    serializer_class = OfferAcceptanceSerializer
    http_method_names = ["get", "head", "options"]
    filterset_fields = ["offer", "channel", "customer"]
    ordering_fields = ["id", "accepted_at"]


class CustomerOffersView(APIView):
    """GET /api/customers/{id}/offers/: the unified offer view of one customer."""

    permission_classes = [needs("campaigns.view_offer", "customers.view_customer")]

    @extend_schema(
        parameters=[OpenApiParameter("channel", str, enum=OfferChannel.values)],
        responses={200: None},
    )
    def get(self, request, pk):
        data = offer_view.present(
            pk, channel=request.query_params.get("channel") or None, user=request.user
        )
        if data is None:
            raise exceptions.NotFound()
        return Response(data)


routes = [
    ("offers", OfferViewSet),
    ("campaigns", CampaignViewSet),
    ("waves", WaveViewSet),
    ("campaign-targets", CampaignTargetViewSet),
    ("tasks", TaskViewSet),
    ("offer-acceptances", OfferAcceptanceViewSet),
]

api_urls = [
    path("customers/<int:pk>/offers/", CustomerOffersView.as_view(), name="customer-offers"),
]
