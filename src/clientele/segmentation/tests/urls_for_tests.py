"""The project's URLs plus the classification pages and API, for tests written before the
project urls include them. Once they do, this module is just the project's urls."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from clientele import urls as project
from clientele.segmentation import api

urlpatterns = list(project.urlpatterns)
if not any(getattr(p, "namespace", None) == "segmentation" for p in urlpatterns):
    urlpatterns.append(path("segmentation/", include("clientele.segmentation.urls")))
if not any(prefix == "segment-definitions" for prefix, *_rest in project.router.registry):
    router = SimpleRouter()
    for prefix, viewset in api.routes:
        router.register(prefix, viewset)
    urlpatterns.insert(0, path("api/", include(router.urls)))
