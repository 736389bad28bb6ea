"""Roles and what each may do, enforced for every page and API endpoint.

Two layers: model permissions ("may this role change orders at all?") come from the
role matrix below through RoleBackend, so Django's own `user.has_perm` and DRF's
permission classes see them; row scope ("which customers?") comes from
`scope_queryset`, which account managers narrow to their own and their team's customers.
"""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from .models import Role

VIEW, ADD, CHANGE, DELETE, EXPORT, IMPORT = "view", "add", "change", "delete", "export", "import"
ACTIONS = {"v": VIEW, "a": ADD, "c": CHANGE, "d": DELETE, "x": EXPORT, "i": IMPORT}

# role -> {"app_label.model" or "app_label.*": action letters}. The most specific key wins.
ROLE_MATRIX: dict[str, dict[str, str]] = {
    Role.MARKETING_MANAGER: {
        "campaigns.*": "vacdx",
        "campaigns.campaigntarget": "vx",
        "campaigns.task": "vcx",
        "campaigns.offeracceptance": "vax",
        "customers.*": "vacdxi",
        "catalog.*": "vacdxi",
        "sales.*": "vacdxi",
        "imports.*": "vac",
        "channels.*": "vacx",
        "segmentation.*": "vx",
        "segmentation.classificationdefinition": "vacx",
        "segmentation.classoverride": "vacdx",
        "plans.*": "vacdx",
        "plans.dutytask": "vcx",
        "core.team": "v",
        "core.user": "v",
    },
    Role.ACCOUNT_MANAGER: {
        "campaigns.*": "v",
        "campaigns.task": "vcx",
        "campaigns.offeracceptance": "va",
        "customers.*": "vacx",
        "customers.customer": "vacx",
        "customers.tag": "v",
        "customers.customfield": "v",
        "catalog.*": "vx",
        "sales.*": "vacx",
        "imports.*": "vac",
        "channels.outboxmessage": "v",
        "channels.suppressionrecord": "v",
        "segmentation.*": "v",
        "plans.*": "v",
        "plans.dutytask": "vc",
        "core.team": "v",
    },
    Role.SERVICE_AGENT: {
        "campaigns.offer": "v",
        "campaigns.campaign": "v",
        "campaigns.task": "vc",
        "campaigns.offeracceptance": "va",
        "customers.*": "v",
        "customers.interaction": "vac",
        "customers.feedback": "vac",
        "customers.consent": "vac",
        "catalog.*": "v",
        "sales.*": "v",
        "channels.outboxmessage": "v",
        "segmentation.currentclass": "v",
        "plans.*": "v",
    },
    Role.ANALYST: {
        "campaigns.*": "vx",
        "customers.*": "vx",
        "catalog.*": "vx",
        "sales.*": "vx",
        "channels.*": "vx",
        "segmentation.*": "vx",
        "plans.*": "vx",
        "core.team": "v",
        "core.user": "v",
    },
}


def role_allows(role: str, app_label: str, model: str, action: str) -> bool:
    """True if the role's matrix grants `action` on the model."""
    if role == Role.ADMINISTRATOR:
        return True
    rules = ROLE_MATRIX.get(role, {})
    letters = rules.get(f"{app_label}.{model}")
    if letters is None:
        letters = rules.get(f"{app_label}.*", "")
    return any(ACTIONS[letter] == action for letter in letters)


class RoleBackend(ModelBackend):
    """Authenticates like Django's ModelBackend and grants permissions by role."""

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return False
        if user_obj.is_superuser:
            return True
        try:
            app_label, codename = perm.split(".", 1)
            action, model = codename.split("_", 1)
        except ValueError:
            return False
        return role_allows(user_obj.role, app_label, model, action)

    def has_module_perms(self, user_obj, app_label):
        return user_obj.is_active and (user_obj.is_superuser or user_obj.role == Role.ADMINISTRATOR)


def perm_name(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def require_perm(user, model, action: str) -> None:
    """Raise PermissionDenied unless the user may perform `action` on `model`."""
    if not user.has_perm(perm_name(model, action)):
        raise PermissionDenied


def customer_scope_q(user, prefix: str) -> Q | None:
    """The filter that limits an account manager to their own and their team's customers;
    None for roles that see every customer."""
    if user.is_superuser or user.role != Role.ACCOUNT_MANAGER:
        return None
    q = Q(**{f"{prefix}owner": user})
    if user.team_id:
        q |= Q(**{f"{prefix}team_id": user.team_id})
    return q


def customer_in_scope(user, owner_id, team_id) -> bool:
    """customer_scope_q for one customer whose owner and team are already read (the offer
    view reads them with everything else in one statement)."""
    if user.is_superuser or user.role != Role.ACCOUNT_MANAGER:
        return True
    return owner_id == user.pk or bool(user.team_id and team_id == user.team_id)


def scope_queryset(queryset, user):
    """Restrict a queryset to the rows the user may see. A model that belongs to a customer
    declares `customer_path` ('' for Customer itself, 'customer__' for its children)."""
    path = getattr(queryset.model, "customer_path", None)
    if path is None:
        return queryset
    q = customer_scope_q(user, path)
    return queryset if q is None else queryset.filter(q)


def can_see(user, obj) -> bool:
    """Whether one record is inside the user's scope."""
    model = type(obj)
    return scope_queryset(model._default_manager.filter(pk=obj.pk), user).exists()
