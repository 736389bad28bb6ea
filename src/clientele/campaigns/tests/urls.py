"""The project's URLs plus the campaigns' pages and API, for tests that run before (or
after) clientele.urls includes them."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from clientele.campaigns import api
from clientele.urls import router as project_router
from clientele.urls import urlpatterns as project_urlpatterns

urlpatterns = list(project_urlpatterns)
if not any(getattr(p, "namespace", None) == "campaigns" for p in urlpatterns):
    urlpatterns.append(path("campaigns/", include("clientele.campaigns.urls")))
if not any(prefix == "offers" for prefix, *_rest in project_router.registry):
    router = DefaultRouter()
    for prefix, viewset in api.routes:
        router.register(prefix, viewset)
    urlpatterns.insert(0, path("api/", include(api.api_urls + router.urls)))
