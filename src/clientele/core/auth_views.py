"""Sign-in with lock-out, and the per-user language switch."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import lockout


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


class LoginView(auth_views.LoginView):
    """Django's login view, refusing locked user names and addresses before checking the
    password (so a locked account cannot be used to probe passwords)."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        until = lockout.locked_until(username, _client_address(request))
        if until is not None:
            form = self.get_form()
            form.errors.clear()
            minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
            form.add_error(
                None,
                _("Too many failed sign-ins. Try again in %(minutes)d minutes.")
                % {"minutes": minutes},
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        lockout.record_failure(self.request.POST.get("username", ""), _client_address(self.request))
        return super().form_invalid(form)

    def form_valid(self, form):
        lockout.clear(form.get_user().username)
        return super().form_valid(form)


@login_required
@require_POST
def set_language(request):
    """Store the chosen language on the user, so it follows them to every device."""
    code = request.POST.get("language", "")
    if code in dict(request.user._meta.get_field("language").choices):
        request.user.language = code
        request.user.save(update_fields=["language"])
        translation.activate(code)
        messages.success(request, _("Language changed."))
    target = request.POST.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect(target)
