"""``{% connection_banners %}``: the "reconnect" / "not reachable" banners on every page."""

from __future__ import annotations

from typing import Any

from django import template

from apps.connections.explain import connection_problem
from apps.connections.models import ConnectionState
from apps.connections.services import connections_of

register = template.Library()


@register.inclusion_tag("connections/_banners.html", takes_context=True)
def connection_banners(context: template.Context) -> dict[str, Any]:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {"problems": []}
    evotor, vk = connections_of(user)
    problems = [
        {"service": service, "connection": connection,
         "explanation": connection_problem(service, connection.last_error)}
        for service, connection in (("evotor", evotor), ("vk", vk))
        if connection is not None and connection.state != ConnectionState.ONLINE
    ]
    return {"problems": problems}
