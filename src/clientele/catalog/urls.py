from . import views

app_name = "catalog"

urlpatterns = [*views.ProductViews.urls(), *views.ProductCategoryViews.urls()]
