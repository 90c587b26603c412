"""What connections do when another app tells them something."""

from __future__ import annotations

import logging

from apps.connections.models import EvotorConnection, HealthCheckLog, VkConnection, WebhookEvent

log = logging.getLogger(__name__)


def forget_connections(sender, user, **kwargs) -> None:
    """account_deleting: drop the tokens and everything recorded about the merchant's links.

    Runs inside the deletion transaction, so no remote call happens here (a slow provider must
    not hold the transaction, and a failed deletion must not have revoked anything). Evotor has
    no call to revoke a cloud token, and the VK ID token dies with the row that held it. The
    rows would cascade anyway; deleting them explicitly also takes the webhook events, whose
    user link would otherwise only be nulled.
    """
    evotor, _ = EvotorConnection.objects.filter(user=user).delete()
    vk, _ = VkConnection.objects.filter(user=user).delete()
    HealthCheckLog.objects.filter(user=user).delete()
    WebhookEvent.objects.filter(user=user).delete()
    log.info("Account %s deleted: dropped %s Evotor and %s VK connection(s)", user.pk, evotor, vk)
