"""Pages of the import app, under /imports/."""

from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "imports"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="imports:importjob_list"), name="index"),
    *views.ImportJobViews.urls(),
    path("jobs/add/", views.UploadView.as_view(), name="importjob_add"),
    path("jobs/<int:pk>/mapping/", views.MappingView.as_view(), name="importjob_mapping"),
    path("jobs/<int:pk>/progress/", views.ProgressView.as_view(), name="importjob_progress"),
    path("jobs/<int:pk>/rejects/", views.RejectsView.as_view(), name="importjob_rejects"),
]
