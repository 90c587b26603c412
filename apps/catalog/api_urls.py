from django.urls import path

from apps.catalog import webhooks

app_name = "catalog_api"

urlpatterns = [
    path("api/v2/evotor/events", webhooks.evotor_events, name="evotor_events"),
]
