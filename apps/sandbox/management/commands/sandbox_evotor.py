"""Play Evotor's side: install/uninstall the app for a sandbox merchant, send product webhooks.

    manage.py sandbox_evotor configure --token-url http://127.0.0.1:8000/api/v1/user/token \
        --server-token <our server token> --events-url http://127.0.0.1:8000/<webhook> \
        --events-secret <secret> [--installation-url …]
    manage.py sandbox_evotor install 01-000000000000042 [--new-token]
    manage.py sandbox_evotor uninstall 01-000000000000042
    manage.py sandbox_evotor event <product id> [--action updated] [--price 199.90] [--name …]
    manage.py sandbox_evotor event <group id> --group [--action removed]
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.sandbox.models import EvotorAccount, EvotorProduct, EvotorProductGroup, OutboundDelivery
from apps.sandbox.services import outbound
from apps.sandbox.services.config import update_config
from apps.sandbox.services.seed import change_product


class Command(BaseCommand):
    help = "Act as the Evotor cloud towards a configured URL (app install, product webhooks)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="command", required=True)
        configure = sub.add_parser("configure", help="store target URLs and secrets")
        for option in (
            "token-url",
            "installation-url",
            "server-token",
            "events-url",
            "events-secret",
        ):
            configure.add_argument(f"--{option}")
        for name in ("install", "uninstall"):
            command = sub.add_parser(name)
            command.add_argument("user_id")
            command.add_argument("--url")
            command.add_argument("--server-token")
            command.add_argument("--attempts", type=int, default=3)
        sub.choices["install"].add_argument("--new-token", action="store_true")
        event = sub.add_parser("event", help="send a signed ProductEvent / ProductGroupEvent")
        event.add_argument("entity_id")
        event.add_argument("--group", action="store_true", help="entity is a product group")
        event.add_argument("--action", choices=outbound.ACTIONS, default="updated")
        event.add_argument("--price")
        event.add_argument("--name")
        event.add_argument("--url")
        event.add_argument("--secret")
        event.add_argument("--attempts", type=int, default=3)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"do_{options['command']}")(options)
        except (ValueError, LookupError) as exc:
            raise CommandError(str(exc)) from exc

    def do_configure(self, options: dict[str, Any]) -> None:
        fields = {
            "evotor_token_url": options["token_url"],
            "evotor_installation_url": options["installation_url"],
            "evotor_server_token": options["server_token"],
            "evotor_events_url": options["events_url"],
            "evotor_events_secret": options["events_secret"],
        }
        changes = {name: value for name, value in fields.items() if value is not None}
        update_config(**changes)
        self.stdout.write(f"configured: {', '.join(sorted(changes)) or 'nothing'}")

    def do_install(self, options: dict[str, Any]) -> None:
        record = outbound.install_app(
            _account(options["user_id"]),
            url=options["url"],
            server_token=options["server_token"],
            new_token=options["new_token"],
            delivery=outbound.Delivery(attempts=options["attempts"]),
        )
        self._report(record)

    def do_uninstall(self, options: dict[str, Any]) -> None:
        record = outbound.uninstall_app(
            _account(options["user_id"]),
            url=options["url"],
            server_token=options["server_token"],
            delivery=outbound.Delivery(attempts=options["attempts"]),
        )
        self._report(record)

    def do_event(self, options: dict[str, Any]) -> None:
        delivery = outbound.Delivery(attempts=options["attempts"])
        target = {"url": options["url"], "secret": options["secret"], "delivery": delivery}
        if options["group"]:
            group = (
                EvotorProductGroup.objects.select_related("store__account")
                .filter(evotor_id=options["entity_id"])
                .first()
            )
            if group is None:
                raise LookupError("no such product group")
            self._report(outbound.send_group_event(group, options["action"], **target))
            return
        product = (
            EvotorProduct.objects.select_related("store__account")
            .filter(evotor_id=options["entity_id"])
            .first()
        )
        if product is None:
            raise LookupError("no such product")
        changes = _changes(options)
        if changes or options["action"] == "updated":
            change_product(product, **changes)
        self._report(outbound.send_product_event(product, options["action"], **target))

    def _report(self, record: OutboundDelivery) -> None:
        status = record.status_code if record.status_code is not None else record.error
        outcome = "delivered" if record.delivered else "NOT delivered"
        self.stdout.write(
            f"{record.kind} → {record.url}: {status} after {record.attempts} attempt(s), {outcome}"
        )
        if not record.delivered:
            raise CommandError("delivery failed")


def _account(user_id: str) -> EvotorAccount:
    account = EvotorAccount.objects.filter(user_id=user_id).first()
    if account is None:
        raise LookupError(f"no sandbox Evotor user {user_id}")
    return account


def _changes(options: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if options["name"]:
        changes["name"] = options["name"]
    if options["price"]:
        try:
            changes["price"] = Decimal(options["price"])
        except InvalidOperation:
            raise ValueError("price must be a number") from None
    return changes
