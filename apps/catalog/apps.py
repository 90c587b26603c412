from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.catalog"
    verbose_name = _("Evotor catalog")

    def ready(self) -> None:
        # Connecting a receiver is declaration, not work.
        from apps.catalog.receivers import refresh_after_evotor_connects
        from apps.connections.signals import evotor_connected

        evotor_connected.connect(
            refresh_after_evotor_connects, dispatch_uid="catalog-first-refresh"
        )
