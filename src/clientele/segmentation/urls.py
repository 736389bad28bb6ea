"""Pages of grading and classification, under /segmentation/ (see the project urls)."""

from django.urls import path

from . import views

app_name = "segmentation"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("transition-matrix/", views.transition_matrix_fragment, name="transition_matrix"),
    path("definitions/count/", views.rule_count, name="rule_count"),
    *views.DefinitionViews.urls(),
    path("definitions/<int:pk>/run/", views.run_now, name="run_now"),
    *views.RunViews.urls(),
    path("customers/<int:pk>/classes/", views.customer_overrides, name="customer_classes"),
]
