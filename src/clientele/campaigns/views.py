"""Pages of the campaigns: declarations on the generic views, the account manager's call
list with its result form, the offer pop-up for stores and the hotline, and starting or
pausing a campaign."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clientele.channels.choices import Channel, MessageStatus
from clientele.channels.models import OutboxMessage
from clientele.core import permissions
from clientele.core.views import ModelViews, scoped_object
from clientele.customers.choices import InteractionChannel
from clientele.customers.models import Customer

from . import filters, forms, services, tables, tasks
from .choices import TaskResult, TaskStatus
from .models import Campaign, CampaignTarget, Offer, OfferAcceptance, Task, Wave
from .offer_view import find_customer_id
from .offer_view import present as present_offers


class OfferViews(ModelViews):
    model = Offer
    table = tables.OfferTable
    filterset = filters.OfferFilterSet
    form = forms.OfferForm


class CampaignViews(ModelViews):
    model = Campaign
    table = tables.CampaignTable
    filterset = filters.CampaignFilterSet
    form = forms.CampaignForm
    detail_template = "campaigns/campaign_detail.html"

    @classmethod
    def get_extra_context(cls, request, campaign):
        counts = CampaignTarget.objects.filter(campaign=campaign).aggregate(
            targets=Count("id"),
            holdout=Count("id", filter=Q(in_holdout=True)),
            contacted=Count("task", filter=Q(task__first_contacted_at__isnull=False)),
            responded=Count("id", filter=Q(responded_at__isnull=False)),
            converted=Count("id", filter=Q(converted_at__isnull=False)),
        )
        open_tasks = Task.objects.filter(campaign=campaign, status=TaskStatus.OPEN).count()
        return {
            "waves": campaign.waves.all(),
            "offers": campaign.offers.all(),
            "counts": counts,
            "open_tasks": open_tasks,
            "can_run": request.user.has_perm("campaigns.change_campaign"),
        }


class WaveViews(ModelViews):
    model = Wave
    table = tables.WaveTable
    filterset = filters.WaveFilterSet
    form = forms.WaveForm

    @classmethod
    def get_queryset(cls, request):
        return Wave.objects.select_related("campaign")


class CampaignTargetViews(ModelViews):
    model = CampaignTarget
    table = tables.CampaignTargetTable
    filterset = filters.CampaignTargetFilterSet
    actions = ("list", "detail")
    route = "targets"

    @classmethod
    def get_queryset(cls, request):
        return CampaignTarget.objects.select_related("campaign", "customer")


class TaskViews(ModelViews):
    model = Task
    table = tables.TaskTable
    filterset = filters.TaskFilterSet
    actions = ("list", "detail")
    detail_template = "campaigns/task_detail.html"

    @classmethod
    def get_queryset(cls, request):
        return Task.objects.select_related("campaign", "customer", "owner")

    @classmethod
    def get_extra_context(cls, request, task):
        return {
            "result_form": forms.TaskResultForm(task=task),
            "can_record": task.status == TaskStatus.OPEN
            and request.user.has_perm("campaigns.change_task"),
        }


class OfferAcceptanceViews(ModelViews):
    model = OfferAcceptance
    table = tables.OfferAcceptanceTable
    filterset = filters.OfferAcceptanceFilterSet
    actions = ("list", "detail")
    route = "acceptances"

    @classmethod
    def get_queryset(cls, request):
        return OfferAcceptance.objects.select_related("offer", "customer", "user")


def _call_list_tasks(user):
    """The user's open tasks that reached the call list (an admitted call-list item)."""
    listed = OutboxMessage.objects.filter(
        campaign_id=OuterRef("campaign_id"),  # leads the outbox's (campaign, task) index
        task_id=OuterRef("pk"),
        channel=Channel.CALL_LIST,
        status__in=[MessageStatus.PENDING, MessageStatus.SENDING, MessageStatus.SENT],
    )
    queryset = Task.objects.filter(Exists(listed), status=TaskStatus.OPEN, owner=user)
    return (
        permissions.scope_queryset(queryset, user)
        .select_related("campaign", "customer")
        .order_by("-campaign__priority", "id")
    )


@login_required
def call_list(request):
    """The account manager's calls to make: script, a link to the 360 page, and the
    result form per task. A task closed in any channel disappears from the list."""
    permissions.require_perm(request.user, Task, permissions.CHANGE)
    task_list = list(_call_list_tasks(request.user)[:200])
    offers = {}
    for task in task_list:
        # One query per campaign on the list, not per task (setdefault would evaluate
        # its argument every time).
        if task.campaign_id not in offers:
            offers[task.campaign_id] = list(task.campaign.offers.filter(active=True))
    rows = [(task, offers[task.campaign_id], forms.TaskResultForm(task=task)) for task in task_list]
    return render(request, "campaigns/call_list.html", {"rows": rows})


@login_required
@require_POST
def task_result(request, pk):
    """Record a result on a task (call list, store, hotline); htmx gets the row back."""
    permissions.require_perm(request.user, Task, permissions.CHANGE)
    task = scoped_object(request, Task, pk)
    form = forms.TaskResultForm(request.POST, task=task)
    channel = request.POST.get("channel") or "call_list"
    if form.is_valid():
        if task.status != TaskStatus.OPEN:
            messages.info(request, _("This task was already closed in another channel."))
        else:
            outcome = services.CallResult(
                reached=form.cleaned_data["result"] != "not_reached",
                intent=form.cleaned_data["intent"],
                result=form.cleaned_data["result"],
                store=form.cleaned_data["store"],
                notes=form.cleaned_data["notes"],
                offer=form.cleaned_data["offer"],
            )
            try:
                services.record_result(task, outcome, channel=channel, user=request.user)
            except services.OfferUnavailable as error:
                form.add_error("offer", str(error))
    task.refresh_from_db()
    if request.htmx:
        offers = list(task.campaign.offers.filter(active=True))
        status = 200 if form.is_valid() and not form.errors else 400
        return render(
            request,
            "campaigns/_task_row.html",
            {"task": task, "offers": offers, "form": form},
            status=status,
        )
    if form.errors:
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
    target = request.POST.get("return") or ""
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(task.get_absolute_url())


def _lookup(request, data):
    """The lookup form and the id of the customer it finds in the user's scope."""
    form = forms.LookupForm(data)
    customer_id = None
    if form.is_valid():
        customer_id = find_customer_id(
            phone=form.cleaned_data["phone"],
            card=form.cleaned_data["card"],
            code=form.cleaned_data["code"],
            user=request.user,
        )
    return form, customer_id


def _panel_context(request, customer_id, channel):
    context = {"searched": True, "customer": None, "channel": channel}
    data = None
    if customer_id is not None:
        data = present_offers(customer_id, channel=channel or None, user=request.user)
    if data is not None:
        for task in data["tasks"]:
            task["result_label"] = TaskResult(task["result"]).label if task["result"] else ""
        for item in data["interactions"]:
            item["channel_label"] = InteractionChannel(item["channel"]).label
        context |= data
        context["can_accept"] = request.user.has_perm("campaigns.add_offeracceptance")
    return context


@login_required
def offer_view(request):
    """The pop-up a store clerk or hotline agent opens when a customer shows up or calls:
    find by phone, card or code; see eligible offers with scripts, open tasks and the
    last contacts; record an acceptance."""
    permissions.require_perm(request.user, Offer, permissions.VIEW)
    permissions.require_perm(request.user, Customer, permissions.VIEW)
    data = request.GET if any(request.GET.get(k) for k in ("phone", "card", "code")) else None
    form, customer_id = _lookup(request, data)
    if "customer" in request.GET and data is None:
        try:
            customer_id = int(request.GET["customer"])
        except ValueError:
            customer_id = None
        data = request.GET
    channel = request.GET.get("channel", "store")
    context = {"form": form or forms.LookupForm()}
    if data is not None:
        context |= _panel_context(request, customer_id, channel)
    if request.htmx:
        return render(request, "campaigns/_offer_panel.html", context)
    return render(request, "campaigns/offer_view.html", context)


@login_required
@require_POST
def offer_accept(request, customer_pk):
    permissions.require_perm(request.user, OfferAcceptance, permissions.ADD)
    customer = scoped_object(request, Customer, customer_pk)
    form = forms.AcceptForm(request.POST)
    channel = request.POST.get("channel", "store")
    error = ""
    if form.is_valid():
        try:
            services.accept_offer(
                customer, form.cleaned_data["offer"], form.cleaned_data["channel"], request.user
            )
        except services.OfferUnavailable as problem:
            error = str(problem)
    else:
        error = "; ".join(str(e) for errs in form.errors.values() for e in errs)
    context = _panel_context(request, customer.pk, channel) | {"error": error}
    if request.htmx:
        return render(request, "campaigns/_offer_panel.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Acceptance recorded."))
    return redirect(f"{_offer_view_url()}?customer={customer.pk}&channel={channel}")


def _offer_view_url():
    from django.urls import reverse

    return reverse("campaigns:offer_view")


@login_required
@require_POST
def campaign_start(request, pk):
    permissions.require_perm(request.user, Campaign, permissions.CHANGE)
    campaign = Campaign.objects.filter(pk=pk).first()
    if campaign is None:
        raise Http404
    tasks.start(campaign)
    messages.success(request, _("Campaign started."))
    return redirect(campaign.get_absolute_url())


@login_required
@require_POST
def campaign_pause(request, pk):
    permissions.require_perm(request.user, Campaign, permissions.CHANGE)
    campaign = Campaign.objects.filter(pk=pk).first()
    if campaign is None:
        raise Http404
    tasks.pause(campaign)
    messages.success(request, _("Campaign paused."))
    return redirect(campaign.get_absolute_url())
