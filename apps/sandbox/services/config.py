"""Access to the single :class:`SandboxConfig` row."""

from __future__ import annotations

from typing import Any

from apps.sandbox.models import SandboxConfig

# Fields that callers (command, control endpoint, tests) may change; secrets included, since
# the sandbox is never mounted in production (check evosync.E003).
EDITABLE_FIELDS = frozenset(
    {
        "evotor_rate_limit",
        "evotor_rate_window",
        "vk_user_rate",
        "vk_group_rate",
        "vk_rate_window",
        "vk_require_main_photo",
        "vk_restore_window",
        "timeout_sleep",
        "vkid_access_lifetime",
        "vkid_code_lifetime",
        "evotor_token_url",
        "evotor_installation_url",
        "evotor_server_token",
        "evotor_events_url",
        "evotor_events_secret",
    }
)


def get_config() -> SandboxConfig:
    """The configuration row, created with defaults on first use (one query per call).

    Not cached in the process on purpose: a fault or limit set from another process (the
    control endpoint, a management command) must take effect on the very next request.
    """
    config, _created = SandboxConfig.objects.get_or_create(pk=1)
    return config


def update_config(**changes: Any) -> SandboxConfig:
    """Change configuration fields; raises ValueError for an unknown or invalid field."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"unknown configuration fields: {', '.join(sorted(unknown))}")
    config = get_config()
    for name, value in changes.items():
        setattr(config, name, value)
    try:
        config.full_clean(exclude=["control_token"])
    except Exception as exc:  # ValidationError: report it the same way as unknown fields
        raise ValueError(str(exc)) from exc
    config.save(update_fields=list(changes) or None)
    return config


def config_as_dict(config: SandboxConfig) -> dict[str, Any]:
    """Editable settings as JSON-friendly values (the control token is not among them)."""
    return {name: getattr(config, name) for name in sorted(EDITABLE_FIELDS)}
