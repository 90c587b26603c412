"""The rows' publishing cells ({% load catalog_publishing %}): the markup the catalog pages show
for a state, a VK status and the include / exclude / automatic form, escaped as a template
would escape it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.template import Context, Template
from django.utils import translation

from apps.catalog.templatetags.catalog_publishing import publish_state, publish_toggle, vk_status


@dataclass
class State:  # what the sync's RowState offers the cells
    mode: str = ""
    tone: str = "secondary"
    reason: str = "excluded_group"
    label: str = "excluded by the group «<Напитки>»"


@dataclass
class Problem:
    title: str = "Item has bad links"
    advice: str = "Remove links & try again"
    code: str = "VK 1408"


@dataclass
class Vk:
    state: str = "failed"
    label: str = "failed"
    tone: str = "danger"
    url: str = ""
    problem: Problem | None = None


@dataclass
class Publishing:
    filter_url: str = "/catalog/publishing"


def toggle(mode: str = "", name: str = "Кофе", **context) -> str:
    values = {"publishing": Publishing(), "here": "/catalog?q=a&page=2", "csrf_token": "tok",
              **context}
    return publish_toggle(Context(values), "group", 12, State(mode=mode), name)


def test_the_state_badge():
    assert publish_state(State()) == (
        '<span class="badge text-bg-secondary publish-state" data-reason="excluded_group">'
        "excluded by the group «&lt;Напитки&gt;»</span>"
    )


def test_the_vk_status_with_a_link_and_a_problem():
    assert vk_status(None) == ""
    linked = vk_status(Vk("published", "published", "success", "https://vk.com/market-1_2?a=1&b"))
    assert linked == ('<a class="badge text-bg-success text-decoration-none vk-status" '
                      'href="https://vk.com/market-1_2?a=1&amp;b" target="_blank" '
                      'rel="noopener">published ↗</a>')
    failed = vk_status(Vk(problem=Problem()))
    assert '<span class="badge text-bg-danger vk-status">failed</span>' in failed
    assert ('<div class="small text-danger vk-problem">Item has bad links <span '
            'class="text-body-secondary">Remove links &amp; try again</span> <span '
            'class="text-body-secondary small">(VK 1408)</span></div>') in failed


def test_the_toggle_posts_the_row_and_comes_back():
    html = toggle()
    assert html.startswith('<form method="post" action="/catalog/publishing" '
                           'class="publish-toggle d-inline-flex">')
    for field in ('<input type="hidden" name="csrfmiddlewaretoken" value="tok">',
                  '<input type="hidden" name="entity_type" value="group">',
                  '<input type="hidden" name="pk" value="12">',
                  '<input type="hidden" name="next" value="/catalog?q=a&amp;page=2">'):
        assert field in html
    assert html.count("<button") == 3 and html.endswith("</div></form>")


def pressed(html: str) -> list[str]:
    return re.findall(r'value="(\w+)" class="btn btn-outline-\w+ active" aria-pressed="true"',
                      html)


def test_the_toggle_presses_the_rows_own_mode():
    assert pressed(toggle("")) == ["inherit"]
    assert pressed(toggle("include")) == ["include"]
    assert pressed(toggle("exclude")) == ["exclude"]
    assert toggle("include").count('aria-pressed="false"') == 2


def test_the_toggle_escapes_the_name_and_speaks_the_language():
    with translation.override("en"):
        html = toggle(name='<script>"x"</script>')
    assert 'aria-label="Publishing of «&lt;script&gt;&quot;x&quot;&lt;/script&gt;»"' in html
    assert 'title="Include: publish it"' in html
    with translation.override("ru"):
        russian = toggle()
    assert "Include: publish it" not in russian  # translated (the catalogue has it)


def test_no_csrf_input_without_a_request():
    assert "csrfmiddlewaretoken" not in toggle(csrf_token="NOTPROVIDED")
    assert "csrfmiddlewaretoken" not in toggle(csrf_token="")


def test_the_tags_load_in_a_template():
    template = Template("{% load catalog_publishing %}{% publish_state state %}"
                        "{% publish_toggle 'product' 5 state name %}")
    html = template.render(Context({"state": State(mode="exclude"), "name": "Сок",
                                    "publishing": Publishing(), "here": "/catalog"}))
    assert 'data-reason="excluded_group"' in html and 'name="pk" value="5"' in html


@dataclass
class Group:
    pk: int
    evotor_id: str
    name: str
    is_modification_group: bool = False


def test_the_group_tree_nests_links_and_cells():
    from apps.catalog.browse import GroupNode

    drinks = Group(1, "G 1&2", "Напитки <свежие>", is_modification_group=True)
    drinks.publishing = State()
    coffee = Group(2, "G2", "Кофе")
    coffee.publishing = State(mode="exclude")
    tree = [GroupNode(drinks, [GroupNode(coffee, [], active=True)])]
    context = {"publishing": Publishing(), "here": "/catalog", "csrf_token": "tok"}
    with translation.override("en"):
        html = Template("{% load catalog_publishing %}{% group_tree tree store %}").render(
            Context({**context, "tree": tree, "store": Store(pk=9)}))
    assert html.count('<ul class="list-unstyled ms-2 mb-0">') == 2
    assert ('<a href="?store=9&amp;group=G%201%262">Напитки &lt;свежие&gt;</a>\n'
            '<span class="text-body-secondary" title="modification group">·</span>') in html
    assert '<a href="?store=9&amp;group=G2" class="fw-semibold">Кофе</a>' in html
    assert html.index("Напитки") < html.index("Кофе") < html.index("</li></ul></li></ul>")
    assert html.count("publish-toggle") == 2 and html.count("publish-state") == 2
    assert pressed(html) == ["inherit", "exclude"]
    bare = Template("{% load catalog_publishing %}{% group_tree tree store %}").render(
        Context({"tree": tree, "store": Store(pk=9)}))
    assert "publish-" not in bare and "Кофе" in bare  # no sync answering: links only


@dataclass
class Store:
    pk: int
