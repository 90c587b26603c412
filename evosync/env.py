"""Strict environment parsing for settings.

django-environ's own ``Env.bool`` treats every unknown word as False, so ``DEBUG=flase`` would
silently switch a developer box into production mode (or ``SANDBOX_ENABLED=ture`` would silently
turn the sandbox off). Settings must fail fast instead: these helpers raise
``ImproperlyConfigured`` naming the variable and the accepted values.

Every variable can also be given as ``NAME_FILE=/path`` (Docker/Kubernetes secrets); the file's
content wins over an unset ``NAME`` and is stripped of its trailing newline.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class StrictEnv:
    """Reads variables from a mapping (``os.environ`` by default) with ``_FILE`` support."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        """The variable's text, from ``NAME`` or from the file named by ``NAME_FILE``."""
        value = self.environ.get(name)
        if value is not None:
            return value
        path = self.environ.get(f"{name}_FILE")
        if not path:
            return None
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read().rstrip("\r\n")
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc}") from exc

    def is_set(self, name: str) -> bool:
        return self.raw(name) not in (None, "")

    def str(self, name: str, default: str | None = None) -> str:
        value = self.raw(name)
        if value is None or value == "":
            if default is None:
                raise ImproperlyConfigured(f"Set the {name} environment variable.")
            return default
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return default
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        accepted = ", ".join(sorted(TRUE_WORDS | FALSE_WORDS))
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use one of: {accepted}.")

    def int(self, name: str, default: int, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
        return number

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]
