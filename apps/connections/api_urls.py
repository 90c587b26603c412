"""Server-to-server endpoints Evotor calls (configured on dev.evotor.ru → Integration)."""

from django.urls import path

from apps.connections import evotor_webhooks

app_name = "evotor_api"

urlpatterns = [
    path("api/v1/user/verify", evotor_webhooks.user_verify, name="user_verify"),
    path("api/v1/user/create", evotor_webhooks.user_create, name="user_create"),
    path("api/v1/user/token", evotor_webhooks.user_token, name="user_token"),
    path("api/v2/installation/event", evotor_webhooks.installation_event, name="installation"),
]
