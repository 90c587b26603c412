"""Make the sandbox misbehave on purpose.

manage.py sandbox_fault add vk market.add --code 6 --count 3
manage.py sandbox_fault add vk execute --http-status 502
manage.py sandbox_fault add evotor products --http-status 429 --count 2
manage.py sandbox_fault add vk '*' --latency 1.5 --forever
manage.py sandbox_fault add vk market.add --code 14 --captcha redirect
manage.py sandbox_fault add vkid token --timeout
manage.py sandbox_fault list | clear [--service vk]
manage.py sandbox_fault revoke-token <vk token> | expire-token <vk token>
manage.py sandbox_fault revoke-evotor-token <token> [--restore]
manage.py sandbox_fault market <group id> --disable | --enable
manage.py sandbox_fault caps <group id> --max-items 10 --max-albums 2 --max-items-per-album 5
manage.py sandbox_fault reject <VK item id> [--title …] [--description …] | --accept
manage.py sandbox_fault reject-rule 'вейп' --count 3     # moderation rejects the next 3 such items
manage.py sandbox_fault reject-rules [--clear]
manage.py sandbox_fault config vk_user_rate=2 evotor_rate_limit=100
manage.py sandbox_fault token       # print the control endpoint's token
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import BooleanField

from apps.sandbox.models import SandboxConfig, SandboxFault
from apps.sandbox.services import faults, vk_moderation
from apps.sandbox.services.config import get_config, update_config


class Command(BaseCommand):
    help = "Inject faults into the sandbox (errors, latency, timeouts, revoked tokens, caps)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="the next N calls of a method/endpoint misbehave")
        add.add_argument("service", choices=sorted(faults.SERVICES))
        add.add_argument(
            "target",
            help="VK method, 'upload', Evotor endpoint, VK ID 'token'/'revoke'/'logout', or '*'",
        )
        add.add_argument("--count", type=int, default=1)
        add.add_argument("--forever", action="store_true", help="until cleared")
        add.add_argument("--code", type=int, dest="error_code", help="VK error code")
        add.add_argument("--http-status", type=int)
        add.add_argument("--latency", type=float, default=0.0, help="seconds")
        add.add_argument("--timeout", action="store_true", help="sleep past the client timeout")
        add.add_argument(
            "--captcha",
            choices=[style for style, _label in SandboxFault.CAPTCHA_STYLES],
            default=SandboxFault.CAPTCHA_LEGACY,
            help="shape of error 14: legacy (captcha_sid/img) or redirect (redirect_uri)",
        )
        sub.add_parser("list")
        clear = sub.add_parser("clear")
        clear.add_argument("--service", choices=sorted(faults.SERVICES))
        for name in ("revoke-token", "expire-token", "revoke-evotor-token"):
            token = sub.add_parser(name)
            token.add_argument("token")
            token.add_argument("--restore", action="store_true", help="(Evotor) undo a revoke")
        market = sub.add_parser("market")
        market.add_argument("group_id", type=int)
        switch = market.add_mutually_exclusive_group(required=True)
        switch.add_argument("--enable", action="store_true")
        switch.add_argument("--disable", action="store_true")
        caps = sub.add_parser("caps", help="VK caps; 'none' lifts one")
        caps.add_argument("group_id", type=int)
        for cap in ("max-items", "max-albums", "max-items-per-album"):
            caps.add_argument(f"--{cap}", type=_cap)
        reject = sub.add_parser("reject", help="VK moderation rejects an item")
        reject.add_argument("item_id", type=int, help="VK item id (as market.add answered it)")
        reject.add_argument("--title", default="")
        reject.add_argument("--description", default="")
        reject.add_argument("--accept", action="store_true", help="lift the rejection instead")
        rule = sub.add_parser("reject-rule", help="reject the next N items whose name has TEXT")
        rule.add_argument("text")
        rule.add_argument("--count", type=int, default=1)
        rule.add_argument("--forever", action="store_true", help="until cleared")
        rule.add_argument("--title", default="")
        rule.add_argument("--description", default="")
        rules = sub.add_parser("reject-rules", help="list moderation rules")
        rules.add_argument("--clear", action="store_true")
        config = sub.add_parser("config", help="set sandbox limits: name=value ...")
        config.add_argument("pairs", nargs="*")
        sub.add_parser("token", help="print the control token")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"].replace("-", "_")
        try:
            getattr(self, f"do_{action}")(options)
        except (ValueError, LookupError, ValidationError) as exc:
            raise CommandError(str(exc)) from exc

    def do_add(self, options: dict[str, Any]) -> None:
        spec = faults.FaultSpec(
            service=options["service"],
            target=options["target"],
            count=None if options["forever"] else options["count"],
            error_code=options["error_code"],
            http_status=options["http_status"],
            latency=options["latency"],
            timeout=options["timeout"],
            captcha_style=options["captcha"],
        )
        fault = faults.add_fault(spec)
        self.stdout.write(f"fault {fault.pk}: {fault}")

    def do_list(self, options: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(faults.list_faults(), indent=2))

    def do_clear(self, options: dict[str, Any]) -> None:
        self.stdout.write(f"removed {faults.clear_faults(options['service'])} fault(s)")

    def do_revoke_token(self, options: dict[str, Any]) -> None:
        faults.revoke_vk_token(options["token"])
        self.stdout.write("VK token revoked")

    def do_expire_token(self, options: dict[str, Any]) -> None:
        faults.expire_vk_token(options["token"])
        self.stdout.write("VK token expired")

    def do_revoke_evotor_token(self, options: dict[str, Any]) -> None:
        faults.revoke_evotor_token(options["token"], revoked=not options["restore"])
        self.stdout.write("Evotor token " + ("restored" if options["restore"] else "revoked"))

    def do_market(self, options: dict[str, Any]) -> None:
        faults.set_market_enabled(options["group_id"], options["enable"])
        self.stdout.write("market " + ("enabled" if options["enable"] else "disabled"))

    def do_caps(self, options: dict[str, Any]) -> None:
        names = ("max_items", "max_albums", "max_items_per_album")
        caps = {n: options[n] for n in names if options[n] is not None}
        faults.set_caps(
            options["group_id"], **{k: (None if v == -1 else v) for k, v in caps.items()}
        )
        self.stdout.write(f"caps set: {caps}")

    def do_reject(self, options: dict[str, Any]) -> None:
        if options["accept"]:
            vk_moderation.accept_item(options["item_id"])
            self.stdout.write("item accepted by moderation")
            return
        vk_moderation.reject_item(
            options["item_id"], title=options["title"], description=options["description"]
        )
        self.stdout.write("item rejected by moderation")

    def do_reject_rule(self, options: dict[str, Any]) -> None:
        rule = vk_moderation.add_rule(
            options["text"],
            count=None if options["forever"] else options["count"],
            title=options["title"],
            description=options["description"],
        )
        self.stdout.write(f"rule {rule.pk}: {rule}")

    def do_reject_rules(self, options: dict[str, Any]) -> None:
        if options["clear"]:
            self.stdout.write(f"removed {vk_moderation.clear_rules()} rule(s)")
            return
        self.stdout.write(json.dumps(vk_moderation.list_rules(), indent=2, ensure_ascii=False))

    def do_config(self, options: dict[str, Any]) -> None:
        changes = {}
        for pair in options["pairs"]:
            name, sep, raw = pair.partition("=")
            if not sep:
                raise ValueError(f"expected name=value, got {pair!r}")
            changes[name] = _coerce(name, raw)
        if changes:
            update_config(**changes)
        config = get_config()
        for name in sorted(changes or {f.name for f in SandboxConfig._meta.fields} - {"id"}):
            self.stdout.write(f"{name} = {getattr(config, name)}")

    def do_token(self, options: dict[str, Any]) -> None:
        self.stdout.write(get_config().control_token)


def _coerce(name: str, raw: str) -> Any:
    """A configuration value from the command line (booleans as true/false/yes/no/1/0)."""
    try:
        field = SandboxConfig._meta.get_field(name)
    except FieldDoesNotExist:
        raise ValueError(f"unknown configuration field {name!r}") from None
    if isinstance(field, BooleanField):
        lowered = raw.strip().lower()
        if lowered not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
            raise ValueError(f"{name} must be true or false")
        return lowered in ("true", "yes", "1", "on")
    return field.to_python(raw)


def _cap(value: str) -> int:
    """A cap, or -1 for "none" (lifted)."""
    return -1 if value.lower() == "none" else int(value)
