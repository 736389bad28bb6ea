from . import admin_pages

app_name = "core"

urlpatterns = [
    *admin_pages.UserViews.urls(),
    *admin_pages.TeamViews.urls(),
    *admin_pages.AuditViews.urls(),
]
