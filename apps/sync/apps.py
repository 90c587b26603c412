from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.sync"
    verbose_name = _("Sync")

    def ready(self) -> None:
        # Connecting receivers is declaration, not work.
        from apps.accounts.signals import account_deleting
        from apps.catalog.signals import catalog_changed, catalog_page
        from apps.connections.signals import pruning
        from apps.sync.prune import prune_on_signal
        from apps.sync.receivers import publishing_states, stop_syncing, sync_after_catalog_change

        catalog_changed.connect(sync_after_catalog_change, dispatch_uid="sync-after-change")
        account_deleting.connect(stop_syncing, dispatch_uid="sync-stop-on-delete")
        catalog_page.connect(publishing_states, dispatch_uid="sync-catalog-page")
        pruning.connect(prune_on_signal, dispatch_uid="sync-prune-old-runs")
