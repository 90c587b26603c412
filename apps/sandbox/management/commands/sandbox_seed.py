"""Seed the sandbox with a merchant's Evotor catalogue and a VK community, or change N % of the
products for incremental-refresh benchmarks.

    manage.py sandbox_seed --stores 2 --groups 200 --products 10000
    manage.py sandbox_seed --json          # {"evotor": {...}, "vk": {...}} for scripts
    manage.py sandbox_seed --touch-percent 1
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.sandbox.models import EvotorAccount
from apps.sandbox.services.config import get_config
from apps.sandbox.services.seed import SeedResult, seed, touch_products


class Command(BaseCommand):
    help = "Build a realistic sandbox catalogue and VK community (or touch N% of products)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, default=1)
        parser.add_argument("--groups", type=int, default=10)
        parser.add_argument("--products", type=int, default=100)
        parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable data)")
        parser.add_argument("--evotor-user-id", help="reuse/replace this Evotor user (01-…)")
        parser.add_argument("--evotor-token", help="use this Evotor cloud token")
        parser.add_argument("--vk-group-id", type=int, help="reuse/create this VK community id")
        parser.add_argument("--vk-token", help="use this VK user token")
        parser.add_argument("--json", action="store_true", help="print only the JSON summary")
        parser.add_argument(
            "--touch-percent",
            type=float,
            help="do not seed: change this %% of products (price +1, updated_at now)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["touch_percent"] is not None:
            self._touch(options)
            return
        started = time.monotonic()
        try:
            result = seed(
                stores=options["stores"],
                groups=options["groups"],
                products=options["products"],
                seed=options["seed"],
                evotor_token=options["evotor_token"],
                evotor_user_id=options["evotor_user_id"],
                vk_token=options["vk_token"],
                vk_group_id=options["vk_group_id"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
            return
        self._describe(result, time.monotonic() - started)

    def _touch(self, options: dict[str, Any]) -> None:
        account = None
        if options["evotor_user_id"]:
            account = EvotorAccount.objects.filter(user_id=options["evotor_user_id"]).first()
            if account is None:
                raise CommandError("no such Evotor user")
        try:
            result = touch_products(options["touch_percent"], account=account, seed=options["seed"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps({"touched": result.touched, "since": result.since}))
        else:
            self.stdout.write(f"Changed {result.touched} products; since={result.since}")

    def _describe(self, result: SeedResult, seconds: float) -> None:
        data = result.as_json()
        lines = [
            f"Seeded {len(result.stores)} store(s), {result.groups} groups, "
            f"{result.products} products in {seconds:.1f} s.",
            "",
            "Evotor (EVOTOR_API_URL=" + settings.EVOTOR_API_URL + ")",
            f"  user id:     {data['evotor']['user_id']}",
            f"  cloud token: {data['evotor']['token']}",
            f"  store ids:   {', '.join(data['evotor']['store_ids'])}",
            "VK (VK_API_URL=" + settings.VK_API_URL + ", VK_ID_URL=" + settings.VK_ID_URL + ")",
            f"  community:   {data['vk']['group_id']} ({result.vk.group.name})",
            f"  user token:  {data['vk']['user_token']}",
            "Sandbox control",
            f"  X-Sandbox-Control-Token: {get_config().control_token}",
        ]
        self.stdout.write("\n".join(lines))
