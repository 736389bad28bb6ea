"""Per-user language and the current user for the audit trail."""

import threading

from django.utils import translation

_local = threading.local()


def current_user():
    """The signed-in user of the request being served in this thread, if any."""
    return getattr(_local, "user", None)


class set_current_user:
    """Context manager: attribute changes made by jobs and commands to a user."""

    def __init__(self, user):
        self.user = user

    def __enter__(self):
        self.previous = current_user()
        _local.user = self.user

    def __exit__(self, *exc):
        _local.user = self.previous


class CurrentUserMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        with set_current_user(user if user is not None and user.is_authenticated else None):
            return self.get_response(request)


class UserLanguageMiddleware:
    """Activate the language the signed-in user chose, over the browser's preference."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        response = self.get_response(request)
        if user is not None and user.is_authenticated and user.language:
            response.headers.setdefault("Content-Language", user.language)
        return response
