from . import views

app_name = "customers"

urlpatterns = [
    *views.CustomerViews.urls(),
    *views.ContactViews.urls(),
    *views.ConsentViews.urls(),
    *views.InteractionViews.urls(),
    *views.FeedbackViews.urls(),
    *views.TagViews.urls(),
    *views.CustomFieldViews.urls(),
]
