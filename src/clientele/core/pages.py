"""The home page: the numbers a marketing team looks at first."""

import datetime

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.shortcuts import render
from django.utils import timezone

from clientele.customers.models import Customer, Feedback
from clientele.sales.models import Order

from .permissions import scope_queryset


@login_required
def home(request):
    user = request.user
    since = timezone.now() - datetime.timedelta(days=30)
    context = {}
    if user.has_perm("customers.view_customer"):
        customers = scope_queryset(Customer.objects.all(), user)
        context["customer_count"] = customers.count()
        context["status_counts"] = list(
            customers.values("status").annotate(n=Count("id")).order_by("status")
        )
    if user.has_perm("sales.view_order"):
        orders = scope_queryset(Order.objects.valued().filter(ordered_at__gte=since), user)
        context["recent"] = orders.aggregate(n=Count("id"), spend=Sum("total"))
    if user.has_perm("customers.view_feedback"):
        context["open_feedback"] = scope_queryset(
            Feedback.objects.filter(status="open"), user
        ).count()
    return render(request, "core/home.html", context)
