"""REST API base: role permissions, row scope, pagination, JSON errors naming each bad
field, and bulk create. A model's API is a serializer and a few declarations."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .middleware import set_current_user
from .permissions import scope_queryset

BULK_LIMIT = 5000


class ScopedViewSet(viewsets.ModelViewSet):
    """A model's endpoints: list/retrieve/create/update/delete inside the user's scope.
    Subclasses set `queryset`, `serializer_class`, `filterset_fields` or `filterset_class`,
    `search_fields` and `ordering_fields`."""

    ordering = ["-id"]

    def get_queryset(self):
        return scope_queryset(super().get_queryset(), self.request.user)

    def as_user(self):
        """Attribute changes to the caller: DRF authenticates tokens inside the view, after
        CurrentUserMiddleware has run, so the audit trail would otherwise see nobody."""
        return set_current_user(self.request.user)

    def perform_create(self, serializer):
        with self.as_user(), transaction.atomic():
            instance = serializer.save()
            self._check_scope(instance)

    def perform_update(self, serializer):
        with self.as_user(), transaction.atomic():
            instance = serializer.save()
            self._check_scope(instance)

    def perform_destroy(self, instance):
        with self.as_user(), transaction.atomic():
            instance.delete()

    def _check_scope(self, instance):
        if not scope_queryset(
            type(instance)._default_manager.filter(pk=instance.pk), self.request.user
        ).exists():
            raise exceptions.PermissionDenied("The record would be outside your customers.")


class ScopedListViewSet(viewsets.GenericViewSet, mixins.ListModelMixin):
    """A read-only collection with no detail route, for rows named by a pair of fields
    (filtered by both) rather than an id of their own; same scope as ScopedViewSet."""

    def get_queryset(self):
        return scope_queryset(super().get_queryset(), self.request.user)


class BulkCreateMixin:
    """POST a JSON list to .../bulk/: all rows are validated first; any bad row rejects the
    whole request with errors keyed by row index and field, and nothing is written.
    `bulk_unique` names fields whose combination must not repeat inside one request (the
    database would refuse the second row, but without saying which row it was)."""

    bulk_unique: tuple[str, ...] = ()

    @extend_schema(request=None, responses={201: None})
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        if not isinstance(request.data, list):
            raise exceptions.ValidationError({"non_field_errors": ["Send a JSON list of records."]})
        if len(request.data) > BULK_LIMIT:
            raise exceptions.ValidationError(
                {"non_field_errors": [f"At most {BULK_LIMIT} records per request."]}
            )
        serializer = self.get_serializer(data=request.data, many=True)
        if not serializer.is_valid():
            # DRF >= 3.16 reports a list's errors as {index: errors}; older ones as a list.
            errors = serializer.errors
            items = errors.items() if isinstance(errors, dict) else enumerate(errors)
            raise exceptions.ValidationError({str(i): e for i, e in items if e})
        self._check_bulk_duplicates(serializer.validated_data)
        with self.as_user(), transaction.atomic():
            instances = serializer.save()
            for instance in instances:
                self._check_scope(instance)
        return Response({"created": len(instances)}, status=status.HTTP_201_CREATED)

    def _check_bulk_duplicates(self, rows):
        if not self.bulk_unique:
            return
        meta = self.get_queryset().model._meta
        defaults = {field: meta.get_field(field).get_default() for field in self.bulk_unique}
        first_row, errors = {}, {}
        for i, row in enumerate(rows):
            key = tuple(row.get(field, defaults[field]) for field in self.bulk_unique)
            if key in first_row:
                message = f"Same {', '.join(self.bulk_unique)} as row {first_row[key]}."
                errors[str(i)] = {self.bulk_unique[-1]: [message]}
            else:
                first_row[key] = i
        if errors:
            raise exceptions.ValidationError(errors)


class ScopedRelatedField(serializers.SlugRelatedField):
    """A reference by natural key (customer code, SKU) limited to the user's scope."""

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is not None:
            queryset = scope_queryset(queryset, request.user)
        return queryset
