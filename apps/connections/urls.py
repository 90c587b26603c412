from django.urls import path

from apps.connections import views

urlpatterns = [
    path("connections", views.overview, name="connections"),
]
