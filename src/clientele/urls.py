"""Top-level URLs: pages per app, the API under /api/, sign-in and language."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from clientele.campaigns import api as campaigns_api
from clientele.catalog import api as catalog_api
from clientele.channels import api as channels_api
from clientele.core import auth_views, pages
from clientele.customers import api as customers_api
from clientele.imports import api as imports_api
from clientele.plans import api as plans_api
from clientele.sales import api as sales_api
from clientele.segmentation import api as segmentation_api

router = DefaultRouter()
for module in (
    customers_api,
    catalog_api,
    sales_api,
    imports_api,
    channels_api,
    segmentation_api,
    plans_api,
    campaigns_api,
):
    for prefix, viewset in module.routes:
        router.register(prefix, viewset)

urlpatterns = [
    path("", pages.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.auth_views.LogoutView.as_view(), name="logout"),
    path("language/", auth_views.set_language, name="set_language"),
    path("customers/", include("clientele.customers.urls")),
    path("catalog/", include("clientele.catalog.urls")),
    path("sales/", include("clientele.sales.urls")),
    path("imports/", include("clientele.imports.urls")),
    path("channels/", include("clientele.channels.urls")),
    path("segmentation/", include("clientele.segmentation.urls")),
    path("plans/", include("clientele.plans.urls")),
    path("campaigns/", include("clientele.campaigns.urls")),
    path("admin/", include("clientele.core.urls")),
    path("api/", include(campaigns_api.api_urls)),
    path("api/", include(router.urls)),
    path("api/token/", obtain_auth_token, name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
