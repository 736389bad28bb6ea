"""Pages of the channels: the outbox, suppressed contacts and the contact policy as
declarations on the generic views; the public unsubscribe page; and the endpoint providers
post delivery receipts to."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing as django_signing
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt

from clientele.core import permissions
from clientele.core.views import ModelViews
from clientele.customers.models import Customer

from . import filters, forms, services, signing, tables
from .models import ChannelRule, ContactPolicy, OutboxMessage, SuppressionRecord


class OutboxMessageViews(ModelViews):
    model = OutboxMessage
    table = tables.OutboxMessageTable
    filterset = filters.OutboxMessageFilterSet
    actions = ("list", "detail")
    route = "outbox"

    @classmethod
    def get_queryset(cls, request):
        return OutboxMessage.objects.select_related("customer")


class SuppressionRecordViews(ModelViews):
    model = SuppressionRecord
    table = tables.SuppressionRecordTable
    filterset = filters.SuppressionRecordFilterSet
    actions = ("list", "detail")
    route = "suppressions"

    @classmethod
    def get_queryset(cls, request):
        return SuppressionRecord.objects.select_related("customer")


class ContactPolicyViews(ModelViews):
    model = ContactPolicy
    form = forms.ContactPolicyForm
    actions = ("detail", "edit")
    route = "policy"
    detail_fields = [
        "require_opt_in",
        "quiet_hours_start",
        "quiet_hours_end",
        "max_contacts",
        "window_days",
        "max_campaigns_per_day",
    ]


class ChannelRuleViews(ModelViews):
    model = ChannelRule
    table = tables.ChannelRuleTable
    filterset = filters.ChannelRuleFilterSet
    form = forms.ChannelRuleForm
    route = "rules"


@login_required
def contact_policy(request):
    """The organization's one policy (created with its defaults on first visit)."""
    permissions.require_perm(request.user, ContactPolicy, permissions.VIEW)
    return redirect(ContactPolicyViews.url("detail", ContactPolicy.current().pk))


@csrf_exempt  # the signed token is the credential; mail clients post without a CSRF token
def unsubscribe(request, token):
    """The link in every marketing e-mail. GET asks for confirmation (mail scanners open
    links, and must not unsubscribe anyone); POST, from the page's button or a mail
    client's one-click unsubscribe (RFC 8058), records the opt-out."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        customer_id, channel = signing.read_unsubscribe_token(token)
    except django_signing.BadSignature:
        return render(request, "channels/unsubscribe.html", {"invalid": True}, status=400)
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return render(request, "channels/unsubscribe.html", {"invalid": True}, status=404)
    context = {"done": False}
    if request.method == "POST":
        services.record_opt_out(customer.pk, channel, source=services.UNSUBSCRIBE_SOURCE)
        context["done"] = True
    return render(request, "channels/unsubscribe.html", context)


@csrf_exempt  # providers authenticate with the HMAC signature, not a session
def receipts(request):
    """Delivery receipts and bounces posted by a provider (see channels.adapters for the
    format), signed with CLIENTELE_RECEIPT_SECRET."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    secret = getattr(settings, "CLIENTELE_RECEIPT_SECRET", "")
    header = request.headers.get(signing.SIGNATURE_HEADER, "")
    if not signing.verify(secret, request.body, header):
        return JsonResponse({"error": "bad or missing signature"}, status=403)
    try:
        payload = json.loads(request.body)
        reports = payload["receipts"] if "receipts" in payload else [payload]
        updated = services.record_delivery(reports)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"updated": updated})
