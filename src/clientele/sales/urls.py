from . import views

app_name = "sales"

urlpatterns = [*views.OrderViews.urls()]
