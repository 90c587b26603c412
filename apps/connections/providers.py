"""Build API clients from settings: the one place that knows base URLs and timeouts.

The clients themselves are pure HTTP and read no settings; everything product code needs goes
through these factories, so pointing EvoSync at the sandbox or at the real services is only a
matter of EVOTOR_API_URL / VK_API_URL / VK_ID_URL.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.connections.clients import EvotorClient, RetryPolicy, VkClient, VkIdClient

USER_AGENT = "EvoSync/1.0"

# A merchant waits on the page, and gunicorn gives a request WEB_TIMEOUT (30 s): one quick retry
# and a shorter read timeout instead of the background jobs' patient defaults.
INTERACTIVE_RETRY = RetryPolicy(max_attempts=2, base_delay=0.5, max_delay=1.0, max_wait=2.0)
INTERACTIVE_READ_TIMEOUT = 10.0


def _options(base_url: str, interactive: bool, overrides: dict[str, Any]) -> dict[str, Any]:
    timeout: float | tuple[float, float] = settings.HTTP_TIMEOUT_SECONDS
    options: dict[str, Any] = {"base_url": base_url, "user_agent": USER_AGENT}
    if interactive:
        timeout = (5.0, min(float(settings.HTTP_TIMEOUT_SECONDS), INTERACTIVE_READ_TIMEOUT))
        options["retry"] = INTERACTIVE_RETRY
    return {**options, "timeout": timeout, **overrides}


def evotor_client(token: str, *, interactive: bool = False, **overrides) -> EvotorClient:
    """A client for one merchant's Evotor cloud token (pass the decrypted token)."""
    return EvotorClient(token, **_options(settings.EVOTOR_API_URL, interactive, overrides))


def vk_client(token: str, *, interactive: bool = False, **overrides) -> VkClient:
    """A client for one VK user access token."""
    return VkClient(token, **_options(settings.VK_API_URL, interactive, overrides))


def vk_id_configured() -> bool:
    """Whether "Connect with VK ID" can be offered (production needs a registered client id)."""
    return bool(settings.VK_ID_CLIENT_ID)


def vk_id_client(*, interactive: bool = False, **overrides) -> VkIdClient:
    """The client of our VK ID application. Raises ValueError when VK_ID_CLIENT_ID is empty."""
    options = _options(settings.VK_ID_URL, interactive, overrides)
    options.setdefault("redirect_uri", settings.VK_ID_REDIRECT_URI)
    return VkIdClient(settings.VK_ID_CLIENT_ID, **options)
