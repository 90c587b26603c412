"""Development only: a sandbox catalogue and a demo merchant already connected to it.

`make run` calls this so a new developer lands on a working account: Evotor and a VK community
(both sandbox stand-ins) connected, the first catalog refresh queued for the qcluster. Idempotent:
an existing demo merchant is left as it is. This is project glue, not product code: it is the one
place allowed to use both the sandbox and the product apps.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.connections.models import ConnectionState, EvotorConnection, VkConnection
from apps.connections.services import set_state
from apps.connections.signals import evotor_connected
from apps.sync.models import SyncConfig, SyncJob
from apps.sync.tasks import request_sync

DEMO_EMAIL = "demo@evosync.local"
DEMO_PASSWORD = "demo-evosync-2026"  # noqa: S105 - a development account on a local sandbox
# A goods category the sandbox knows (its market.getCategories lists it).
DEMO_CATEGORY = (20001, "Кофе")


class Command(BaseCommand):
    help = "Create the demo merchant connected to the sandbox (development only, idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--products", type=int, default=60)
        parser.add_argument("--groups", type=int, default=8)

    def handle(self, *args, products: int, groups: int, **options) -> None:
        if not settings.SANDBOX_ENABLED:
            raise CommandError("demo_setup needs the sandbox (SANDBOX_ENABLED=true, development).")
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None or not EvotorConnection.objects.filter(user=user).exists():
            user = self._create(products, groups)
        self._enable_sync(user)
        self.stdout.write(
            self.style.SUCCESS(f"Demo merchant: {DEMO_EMAIL} / password {DEMO_PASSWORD}")
        )

    def _create(self, products: int, groups: int) -> User:
        from apps.sandbox.services.config import update_config
        from apps.sandbox.services.seed import seed

        world = seed(stores=1, groups=groups, products=products, seed=2026)
        # Let the sandbox play Evotor towards this EvoSync: app installs and product changes.
        update_config(
            evotor_token_url=f"{settings.SITE_URL}/api/v1/user/token",
            evotor_installation_url=f"{settings.SITE_URL}/api/v2/installation/event",
            evotor_server_token=settings.EVOTOR_WEBHOOK_TOKEN,
            evotor_events_url=f"{settings.SITE_URL}/api/v2/evotor/events",
            evotor_events_secret=settings.EVOTOR_HOOK_SECRET,
        )
        with transaction.atomic():
            user = self._merchant()
            evotor = EvotorConnection(user=user, evotor_user_id=world.account.user_id)
            evotor.cloud_token = world.account.token
            set_state(evotor, ConnectionState.ONLINE)
            group = world.vk.group
            vk = VkConnection(
                user=user, connection_type=VkConnection.Type.MANUAL, group_id=group.vk_id,
                group_name=group.name, group_screen_name=group.screen_name,
                vk_user_id=world.vk.user.vk_id,
            )
            vk.access_token = world.vk.token.token
            set_state(vk, ConnectionState.ONLINE)
            transaction.on_commit(
                lambda: evotor_connected.send(EvotorConnection, connection=evotor)
            )
        self.stdout.write(
            f"Seeded the sandbox: {world.products} products in {world.groups} groups; "
            f"VK community «{group.name}». The first catalog refresh is queued."
        )
        return user

    @staticmethod
    def _enable_sync(user: User) -> None:
        """Publish the demo catalog to the sandbox community: a category chosen, sync on.

        Enabled after the first catalog refresh was queued, so the refresh's change signal
        starts the first sync within seconds of `make run`.
        """
        config, _ = SyncConfig.objects.get_or_create(user=user)
        if config.is_enabled:
            return
        config.vk_category_id, config.vk_category_name = DEMO_CATEGORY
        config.is_enabled = True
        config.confirmed_at = timezone.now()
        config.save()
        request_sync(user.pk, SyncJob.Trigger.MANUAL)

    @staticmethod
    def _merchant() -> User:
        user = User.objects.filter(email=DEMO_EMAIL).first() or User(email=DEMO_EMAIL)
        user.first_name, user.last_name = "Анна", "Демонстрационная"
        user.is_email_confirmed = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        return user
