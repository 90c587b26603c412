"""Merchant pages. No path carries an id: everything is the signed-in merchant's own."""

from django.urls import path

from apps.connections import views

urlpatterns = [
    path("connections", views.overview, name="connections"),
    path("evotor", views.evotor, name="evotor"),
    path("evotor/test", views.evotor_test, name="evotor_test"),
    path("evotor/disconnect", views.evotor_disconnect, name="evotor_disconnect"),
    path("vk", views.vk, name="vk"),
    path("vk/connect", views.vk_connect, name="vk_connect"),
    path("vk/callback", views.vk_callback, name="vk_callback"),
    path("vk/token", views.vk_token, name="vk_token"),
    path("vk/community", views.vk_community, name="vk_community"),
    path("vk/test", views.vk_test, name="vk_test"),
    path("vk/disconnect", views.vk_disconnect, name="vk_disconnect"),
]
