"""Pages of the class plans, under /plans/ (see the project urls)."""

from django.urls import path

from . import views

app_name = "plans"

urlpatterns = [
    *views.ClassPlanViews.urls(),
    path("class-plans/<int:pk>/generate/", views.generate, name="classplan_generate"),
    *views.DutyTaskViews.urls(),
    path("my-duties/", views.my_duties, name="my_duties"),
    path("compliance/", views.compliance, name="compliance"),
]
