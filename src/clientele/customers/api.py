"""REST endpoints of the customer domain."""

from rest_framework import serializers

from clientele.core.api import BulkCreateMixin, ScopedRelatedField, ScopedViewSet
from clientele.core.models import Role

from . import filters
from .models import Consent, Contact, Customer, CustomField, Feedback, Interaction, Tag


class CustomerSerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(
        slug_field="name", many=True, queryset=Tag.objects.all(), required=False
    )
    parent = ScopedRelatedField(
        slug_field="code", queryset=Customer.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Customer
        exclude = []
        read_only_fields = ["created_at", "updated_at"]

    def _account_manager(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and user.role == Role.ACCOUNT_MANAGER and not user.is_superuser:
            return user
        return None

    def validate_owner(self, owner):
        # As on the customer form: an account manager gives customers only to themselves
        # or a teammate (changing the owner alone would keep the record in their scope).
        user = self._account_manager()
        if user is not None and owner is not None and owner != user:
            if not user.team_id or owner.team_id != user.team_id:
                raise serializers.ValidationError("Choose yourself or someone in your team.")
        return owner

    def validate_team(self, team):
        user = self._account_manager()
        if user is not None and team is not None and team.pk != user.team_id:
            raise serializers.ValidationError("Choose your own team.")
        return team

    def validate(self, attrs):
        instance = Customer(**{k: v for k, v in attrs.items() if k != "tags"})
        if self.instance is not None:
            instance = self.instance
            for key, value in attrs.items():
                if key != "tags":
                    setattr(instance, key, value)
        instance.clean()
        custom = attrs.get("custom_fields")
        if custom is not None:
            attrs["custom_fields"] = _validated_custom_fields(custom)
        return attrs


def _validated_custom_fields(values):
    if not isinstance(values, dict):
        raise serializers.ValidationError({"custom_fields": ["Expected an object."]})
    definitions = {f.key: f for f in CustomField.objects.all()}
    result, errors = {}, {}
    for key, value in values.items():
        field = definitions.get(key)
        if field is None:
            errors[key] = ["Unknown custom field."]
            continue
        try:
            converted = field.to_python(value)
        except Exception as error:  # ValidationError from the field definition
            errors[key] = list(getattr(error, "messages", [str(error)]))
            continue
        if converted is not None:
            result[key] = converted
    if errors:
        raise serializers.ValidationError({"custom_fields": errors})
    return result


def _customer_ref():
    return ScopedRelatedField(slug_field="code", queryset=Customer.objects.all())


class ContactSerializer(serializers.ModelSerializer):
    customer = _customer_ref()

    class Meta:
        model = Contact
        exclude = []
        read_only_fields = ["created_at", "updated_at"]


class ConsentSerializer(serializers.ModelSerializer):
    customer = _customer_ref()

    class Meta:
        model = Consent
        exclude = []
        read_only_fields = ["created_at", "updated_at"]


class InteractionSerializer(serializers.ModelSerializer):
    customer = _customer_ref()

    class Meta:
        model = Interaction
        exclude = []
        read_only_fields = ["created_at", "updated_at", "user"]

    def validate(self, attrs):
        contact = attrs.get("contact")
        customer = attrs.get("customer") or getattr(self.instance, "customer", None)
        if contact is not None and customer is not None and contact.customer_id != customer.pk:
            raise serializers.ValidationError(
                {"contact": ["This contact belongs to another customer."]}
            )
        return attrs

    def create(self, validated_data):
        request = self.context.get("request")
        if request is not None:
            validated_data.setdefault("user", request.user)
        return super().create(validated_data)


class FeedbackSerializer(serializers.ModelSerializer):
    customer = _customer_ref()

    class Meta:
        model = Feedback
        exclude = []
        read_only_fields = ["created_at", "updated_at", "user"]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "description"]


class CustomerViewSet(ScopedViewSet):
    queryset = Customer.objects.select_related("parent").prefetch_related("tags")
    serializer_class = CustomerSerializer
    filterset_class = filters.CustomerFilterSet
    search_fields = ["code", "name", "phone", "email"]
    ordering_fields = ["id", "code", "name", "created_at", "status"]


class ContactViewSet(ScopedViewSet):
    queryset = Contact.objects.select_related("customer")
    serializer_class = ContactSerializer
    filterset_fields = ["customer", "decision_role"]
    search_fields = ["name", "phone", "email"]
    ordering_fields = ["id", "name"]


class ConsentViewSet(ScopedViewSet):
    queryset = Consent.objects.select_related("customer")
    serializer_class = ConsentSerializer
    filterset_fields = ["customer", "channel", "status"]
    ordering_fields = ["id", "recorded_at"]


class InteractionViewSet(BulkCreateMixin, ScopedViewSet):
    queryset = Interaction.objects.select_related("customer")
    serializer_class = InteractionSerializer
    filterset_fields = ["customer", "channel", "direction", "intent", "reached"]
    search_fields = ["subject", "notes"]
    ordering_fields = ["id", "occurred_at"]


class FeedbackViewSet(ScopedViewSet):
    queryset = Feedback.objects.select_related("customer")
    serializer_class = FeedbackSerializer
    filterset_fields = ["customer", "kind", "source", "status"]
    search_fields = ["text", "category"]
    ordering_fields = ["id", "received_at"]


class TagViewSet(ScopedViewSet):
    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    search_fields = ["name"]
    ordering_fields = ["id", "name"]


routes = [
    ("customers", CustomerViewSet),
    ("contacts", ContactViewSet),
    ("consents", ConsentViewSet),
    ("interactions", InteractionViewSet),
    ("feedback", FeedbackViewSet),
    ("tags", TagViewSet),
]
