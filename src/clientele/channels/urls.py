from django.urls import path

from . import views

app_name = "channels"

urlpatterns = [
    path("policy/", views.contact_policy, name="contact_policy"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("receipts/", views.receipts, name="receipts"),
    *views.OutboxMessageViews.urls(),
    *views.SuppressionRecordViews.urls(),
    *views.ContactPolicyViews.urls(),
    *views.ChannelRuleViews.urls(),
]
