from django.urls import path

from . import results, views

app_name = "campaigns"

urlpatterns = [
    path("call-list/", views.call_list, name="call_list"),
    path("offer-view/", views.offer_view, name="offer_view"),
    path("offer-view/<int:customer_pk>/accept/", views.offer_accept, name="offer_accept"),
    path("tasks/<int:pk>/result/", views.task_result, name="task_result"),
    path("campaigns/<int:pk>/start/", views.campaign_start, name="campaign_start"),
    path("campaigns/<int:pk>/pause/", views.campaign_pause, name="campaign_pause"),
    path("campaigns/<int:pk>/results/", results.campaign_results, name="campaign_results"),
    *views.OfferViews.urls(),
    *views.CampaignViews.urls(),
    *views.WaveViews.urls(),
    *views.CampaignTargetViews.urls(),
    *views.TaskViews.urls(),
    *views.OfferAcceptanceViews.urls(),
]
