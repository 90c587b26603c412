"""Every email EvoSync sends: subject/text/html templates, in the recipient's language.

``templates/emails/<name>_subject.txt``, ``<name>_body.txt`` and ``<name>_body.html`` are rendered
with the recipient's language and time zone active (not the language of whoever triggered the
email: an operator's English admin must still send a Russian merchant Russian mail). Links are
absolute, built from ``SITE_URL``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

if TYPE_CHECKING:
    from apps.accounts.models import User


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def render_email(user: User, name: str, context: dict[str, Any]) -> EmailMultiAlternatives:
    context = {"user": user, "site_url": settings.SITE_URL, **context}
    with translation.override(user.language), timezone.override(user.time_zone):
        subject = render_to_string(f"emails/{name}_subject.txt", context)
        text = render_to_string(f"emails/{name}_body.txt", context)
        html = render_to_string(f"emails/{name}_body.html", context)
    # A header line break would let a value inject headers; Django refuses them anyway.
    subject = " ".join(subject.split())
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
    message.attach_alternative(html, "text/html")
    return message


def send_email(user: User, name: str, context: dict[str, Any]) -> None:
    """Render and send; SMTP errors propagate (the caller decides whether they matter)."""
    render_email(user, name, context).send()
