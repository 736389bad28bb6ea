"""The project's URLs plus the plans' pages and API, for tests that run before (or after)
clientele.urls includes them."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from clientele import urls as project
from clientele.plans import api

urlpatterns = list(project.urlpatterns)
if not any(getattr(p, "namespace", None) == "plans" for p in urlpatterns):
    urlpatterns.append(path("plans/", include("clientele.plans.urls")))
if not any(prefix == "class-plans" for prefix, *_rest in project.router.registry):
    router = SimpleRouter()
    for prefix, viewset in api.routes:
        router.register(prefix, viewset)
    urlpatterns.insert(0, path("api/", include(router.urls)))
