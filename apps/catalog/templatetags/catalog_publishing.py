"""The publishing cells of the catalog pages' rows, and the sidebar's group tree, written in
Python.

A store's page shows, for each of its groups (hundreds in a large catalog), a link, a state badge
and an include / exclude / automatic form, and the cells for each product of the page. As
``{% include %}``d templates these cost ~0.15 ms per row, half of a 10,000-product store page's
time; these tags write the same markup for a fraction of that: what is the same on every row (the
buttons' words, the form's target, the CSRF token) is written once. The objects come from the
sync's ``catalog_page`` answer (apps/sync/publishing.py: ``RowState``, ``VkStatus``), read by
attribute only: the catalog does not import the sync.
"""

from __future__ import annotations

from html import escape
from typing import Any

from django import template
from django.template.defaultfilters import urlencode
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()
NOT_PROVIDED = "NOTPROVIDED"  # the csrf_token context processor's "no request" value
_BUTTONS: dict[tuple[str | None, str], str] = {}  # (language, the row's mode) → the buttons


def _e(value: Any) -> str:
    """``conditional_escape`` without its lazy-string wrapper (called a few thousand times)."""
    return value.__html__() if hasattr(value, "__html__") else escape(str(value))


@register.simple_tag
def publish_state(state: Any) -> SafeString:
    """The effective state of a row (a RowState)."""
    return SafeString(f'<span class="badge text-bg-{_e(state.tone)} publish-state" '
                      f'data-reason="{_e(state.reason)}">{_e(state.label)}</span>')


@register.simple_tag
def vk_status(vk: Any) -> SafeString:
    """What the product's VK item is now (a VkStatus, or nothing)."""
    if not vk:
        return SafeString("")
    if vk.url:
        badge = format_html('<a class="badge text-bg-{} text-decoration-none vk-status" href="{}" '
                            'target="_blank" rel="noopener">{} ↗</a>', vk.tone, vk.url, vk.label)
    else:
        badge = format_html('<span class="badge text-bg-{} vk-status">{}</span>', vk.tone,
                            vk.label)
    problem = vk.problem
    if not problem:
        return badge
    code = (format_html(' <span class="text-body-secondary small">({})</span>', problem.code)
            if problem.code else "")
    return format_html('{}<div class="small text-danger vk-problem">{} '
                       '<span class="text-body-secondary">{}</span>{}</div>',
                       badge, problem.title, problem.advice, code)


def _buttons(mode: str) -> str:
    key = (get_language(), mode)
    made = _BUTTONS.get(key)
    if made is None:
        made = "".join(
            f'<button type="submit" name="mode" value="{value}" class="btn {style}'
            f'{" active" if active else ""}" aria-pressed="{"true" if active else "false"}" '
            f'title="{_e(title)}"><span aria-hidden="true">{sign}</span>'
            f'<span class="visually-hidden">{_e(label)}</span></button>'
            for value, style, active, title, sign, label in (
                ("include", "btn-outline-success", mode == "include", _("Include: publish it"),
                 "✓", _("Include")),
                ("exclude", "btn-outline-danger", mode == "exclude",
                 _("Exclude: do not publish it"), "✕", _("Exclude")),
                ("inherit", "btn-outline-secondary", not mode,
                 _("Automatic: follow the store and the group"), "↺", _("Automatic")),
            )
        )
        _BUTTONS[key] = made
    return made


def _form_head(context: template.Context) -> tuple[str, str]:
    """The form's opening up to its own fields, and its closing: the same for every row of a
    page, so made once per render."""
    store = context.render_context
    head = store.get(_form_head)
    if head is None:
        token = context.get("csrf_token")  # written as {% csrf_token %} writes it
        csrf = ""
        if token and token != NOT_PROVIDED:
            csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(token)}">'
        head = (
            f'<form method="post" action="{_e(context["publishing"].filter_url)}" '
            f'class="publish-toggle d-inline-flex">{csrf}',
            f'<input type="hidden" name="next" value="{_e(context.get("here", ""))}">',
        )
        store[_form_head] = head
    return head


@register.simple_tag(takes_context=True)
def publish_toggle(context: template.Context, kind: str, pk: int, state: Any,
                   name: str) -> SafeString:
    """Include / exclude / inherit one row: a form posting to the page's ``publishing.filter_url``
    with the CSRF token and ``here`` to come back to."""
    opening, back = _form_head(context)
    # As {% blocktranslate %} does: the name is escaped, the translation itself is not.
    label = _("Publishing of «%(name)s»") % {"name": _e(name)}
    return SafeString(
        f'{opening}<input type="hidden" name="entity_type" value="{_e(kind)}">'
        f'<input type="hidden" name="pk" value="{_e(pk)}">{back}'
        f'<div class="btn-group btn-group-sm" role="group" aria-label="{label}">'
        f'{_buttons(state.mode)}</div></form>'
    )


@register.simple_tag(takes_context=True)
def group_tree(context: template.Context, nodes: list, store: Any) -> SafeString:
    """The groups of the chosen store, nested (browse.GroupNode): each a link to its products
    (bold when chosen), "·" for a modification group, and its publishing cells when the page has
    ``publishing``."""
    publishing = context.get("publishing")
    modification = _e(_("modification group"))
    store_pk = _e(store.pk)
    parts: list[str] = []

    def write(level: list) -> None:
        parts.append('<ul class="list-unstyled ms-2 mb-0">')
        for node in level:
            group = node.group
            state = getattr(group, "publishing", None) if publishing else None
            chosen = ' class="fw-semibold"' if node.active else ""
            parts.append(
                '<li class="catalog-tree-node">'
                '<div class="d-flex align-items-start justify-content-between gap-1">'
                '<div class="catalog-tree-label">'
                f'<a href="?store={store_pk}&amp;group={_e(urlencode(group.evotor_id))}"{chosen}>'
                f"{_e(group.name)}</a>\n"
            )
            if group.is_modification_group:
                parts.append(f'<span class="text-body-secondary" title="{modification}">·</span>')
            if state:
                parts.append(f"\n<div>{publish_state(state)}</div>")
            parts.append("\n</div>")
            if state:
                parts.append(publish_toggle(context, "group", group.pk, state, group.name))
            parts.append("</div>")
            if node.children:
                write(node.children)
            parts.append("</li>")
        parts.append("</ul>")

    write(nodes)
    return SafeString("".join(parts))
