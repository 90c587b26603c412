from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from evosync import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health", views.health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("apps.connections.api_urls")),
]

if settings.SANDBOX_ENABLED:
    # Stand-ins for Evotor, VK and VK ID (PRODUCT.md §9); never mounted in production.
    urlpatterns.append(path("sandbox/", include("apps.sandbox.urls")))
