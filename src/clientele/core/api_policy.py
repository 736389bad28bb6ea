"""API policy named in settings.REST_FRAMEWORK: who may call, how lists page, how errors
look. Kept apart from core.api because DRF imports these while its own views module is
still loading."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError
from django.db.models.deletion import ProtectedError
from django.http import Http404
from rest_framework import authentication, exceptions, permissions
from rest_framework.pagination import PageNumberPagination

from .prepared import PreparedQuery


def _token_with_user(key):
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user_fields = [field.attname for field in get_user_model()._meta.concrete_fields]
    token_fields = [field.attname for field in Token._meta.concrete_fields]
    return Token.objects.filter(key=key).values_list(
        *token_fields, *(f"user__{name}" for name in user_fields)
    )


_TOKEN_WITH_USER = PreparedQuery("api_token_user", _token_with_user, str)


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token sign-in (same answers and messages), with its one query compiled and
    prepared once (core.prepared): every API call pays for it, and building it through the
    ORM cost more than running it."""

    def authenticate_credentials(self, key):
        from django.contrib.auth import get_user_model
        from django.utils.translation import gettext_lazy as _
        from rest_framework.authtoken.models import Token

        # A NUL cannot be stored in a PostgreSQL text column: no token has one.
        row = None if "\x00" in key else _TOKEN_WITH_USER.first(key)
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user_model = get_user_model()
        token_names = [field.attname for field in Token._meta.concrete_fields]
        user_names = [field.attname for field in user_model._meta.concrete_fields]
        split = len(token_names)
        token = Token.from_db("default", token_names, row[:split])
        user = user_model.from_db("default", user_names, row[split:])
        token.user = user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, token


class RolePermission(permissions.DjangoModelPermissions):
    """Model permissions from the role matrix, including 'view' for reads. Views without a
    model (the API root, the schema) only need a signed-in user."""

    def has_permission(self, request, view):
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000


def exception_handler(exc, context):
    """Every error is JSON: {"detail": ..., "errors": {field: [messages]}} for validation."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ProtectedError):  # an IntegrityError whose text is a Python repr
        exc = exceptions.ValidationError(
            {"non_field_errors": ["This record cannot be deleted while other records refer to it."]}
        )
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError({"non_field_errors": [str(exc).splitlines()[0]]})
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "Invalid input.", "errors": response.data}
    return response
