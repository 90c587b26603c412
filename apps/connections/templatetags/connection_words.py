"""``{% explain_connection connection service as found %}``: a stored error in plain words."""

from __future__ import annotations

from django import template

from apps.connections.explain import Explanation, connection_problem

register = template.Library()


@register.simple_tag
def explain_connection(connection, service: str) -> Explanation | None:
    if connection is None or not connection.last_error:
        return None
    return connection_problem(service, connection.last_error)
