"""The project's URLs plus the channels' pages and API, for tests that run before (or
after) clientele.urls includes them."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from clientele.channels import api
from clientele.urls import urlpatterns as project_urlpatterns

router = DefaultRouter()
for prefix, viewset in api.routes:
    router.register(prefix, viewset)

urlpatterns = list(project_urlpatterns)
if not any(getattr(p, "namespace", None) == "channels" for p in urlpatterns):
    urlpatterns.append(path("channels/", include("clientele.channels.urls")))
urlpatterns.append(path("api/", include(router.urls)))
