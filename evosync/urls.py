from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from apps.accounts import views as account_views
from evosync import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health", views.health, name="health"),
    # Machine endpoints first: Evotor's webhooks arrive hundreds a second and each pattern tried
    # before theirs is work (their paths start with /api/, which no page uses).
    path("", include("apps.connections.api_urls")),
    path("", include("apps.catalog.api_urls")),
    # The footer's language switch also saves the choice in a signed-in user's profile.
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("apps.accounts.urls")),
    path("", include("apps.connections.urls")),
    path("", include("apps.catalog.urls")),
    path("", include("apps.sync.urls")),
    path("", include("apps.sync.publishing_urls")),
]

if settings.SANDBOX_ENABLED:
    # Stand-ins for Evotor, VK and VK ID (docs/architecture.md#the-sandbox); never mounted in
    # production.
    urlpatterns.append(path("sandbox/", include("apps.sandbox.urls")))
