"""Build API clients from settings: the one place that knows base URLs and timeouts.

The clients themselves are pure HTTP and read no settings; everything product code needs goes
through these factories, so pointing EvoSync at the sandbox or at the real services is only a
matter of EVOTOR_API_URL / VK_API_URL / VK_ID_URL.
"""

from __future__ import annotations

from django.conf import settings

from apps.connections.clients import EvotorClient, VkClient

USER_AGENT = "EvoSync/1.0"


def evotor_client(token: str, **overrides) -> EvotorClient:
    """A client for one merchant's Evotor cloud token (pass the decrypted token)."""
    options = {
        "base_url": settings.EVOTOR_API_URL,
        "timeout": settings.HTTP_TIMEOUT_SECONDS,
        "user_agent": USER_AGENT,
        **overrides,
    }
    return EvotorClient(token, **options)


def vk_client(token: str, **overrides) -> VkClient:
    """A client for one VK user access token."""
    options = {
        "base_url": settings.VK_API_URL,
        "timeout": settings.HTTP_TIMEOUT_SECONDS,
        "user_agent": USER_AGENT,
        **overrides,
    }
    return VkClient(token, **options)
