from django.urls import path

from apps.catalog import views

app_name = "catalog"

urlpatterns = [
    path("catalog", views.catalog, name="catalog"),
    path("catalog/products/<int:pk>", views.product_detail, name="product"),
    path("catalog/export.csv", views.export_csv, name="export"),
    path("catalog/refresh", views.refresh_now, name="refresh"),
]
