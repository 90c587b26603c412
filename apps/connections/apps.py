from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.connections"
    verbose_name = _("Connections")

    def ready(self) -> None:
        # Connecting a receiver is declaration, not work.
        from apps.accounts.signals import account_deleting
        from apps.connections.receivers import forget_connections

        account_deleting.connect(forget_connections, dispatch_uid="connections-forget")
