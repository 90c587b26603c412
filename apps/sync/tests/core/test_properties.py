"""Properties over arbitrary catalogs, filters, settings and VK states (Hypothesis)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.sync.core.engine import plan_sync
from apps.sync.core.filters import decide
from apps.sync.core.text import has_outside_link, squash, vk_length
from apps.sync.core.transform import (
    DESCRIPTION_KEY,
    description,
    item_name,
    managed_fields,
    published_values,
)
from apps.sync.core.types import (
    ALL_FIELDS,
    Action,
    AlbumAction,
    AlbumLink,
    AlbumOp,
    Field,
    Filter,
    FilterMode,
    FilterType,
    Group,
    ItemOp,
    Link,
    LinkState,
    OutOfStock,
    Removal,
    Rounding,
    Store,
    SyncContext,
    SyncPlan,
    SyncSettings,
    VkItem,
)

from .builders import STORE
from .builders import product as make_product
from .builders import settings as make_settings

FAST = settings(max_examples=100, deadline=None)

PRODUCT_IDS = [f"p{n}" for n in range(6)]
GROUP_IDS = [f"g{n}" for n in range(5)]
STORES = (STORE, Store("s2", "Склад"))

# --- strategies -------------------------------------------------------------------------------



def _mostly(usual: object, *others: object) -> st.SearchStrategy:
    """``usual`` four times in five: most generated goods should be publishable."""
    return st.sampled_from([usual] * (4 * max(len(others), 1)) + list(others))


# Plain samples rather than st.text / st.decimals: the engine properties are about states,
# and drawing rich values would cost most of the suite's time (the transform properties below
# draw arbitrary text and amounts). Strategies are built once, outside the draws, for the same
# reason.
prices = _mostly(Decimal("1234.56"), None, Decimal(-5), Decimal(0), Decimal("0.01"),
                 Decimal("99.99"), Decimal("1000000000"))
names = _mostly("Футболка хлопковая", "", "  ", "Чай", "Ab", "Сыр  Российский " * 10, "😀",
                "www.shop.ru")
_store_ids = _mostly(STORE.id, "s2")
_group_ids = st.none() | st.sampled_from(GROUP_IDS)
_quantities = _mostly(Decimal(3), None, Decimal(-1), Decimal(0))
_flags = _mostly(False, True)

products = st.builds(
    make_product,
    st.sampled_from(PRODUCT_IDS),
    store_id=_store_ids,
    name=names,
    price=prices,
    group_id=_group_ids,
    quantity=_quantities,
    measure_name=st.sampled_from(["", "шт", "кг"]),
    type=_mostly("NORMAL", "SERVICE"),
    allow_to_sell=_mostly(True, False),
    removed=_flags,
    image_url=st.sampled_from(["", "https://img/1"]),
)
_group = st.builds(
    Group,
    st.sampled_from(GROUP_IDS),
    st.sampled_from(["Чай", "Кофе", "Ч" * 140]),
    _store_ids,
    parent_id=_group_ids,
    removed=_flags,
)
groups = st.lists(_group, unique_by=lambda g: g.id, max_size=5).map(tuple)
filters = st.builds(
    Filter,
    st.sampled_from(list(FilterType)),
    st.sampled_from(PRODUCT_IDS + GROUP_IDS + [s.id for s in STORES]),
    st.sampled_from(list(FilterMode)),
)
_filter_lists = st.lists(filters, max_size=3).map(tuple)
sync_settings = st.builds(
    make_settings,
    markup_percent=st.sampled_from([Decimal(0), Decimal(15), Decimal(-20)]),
    rounding=st.sampled_from(list(Rounding)),
    min_price=st.sampled_from([Decimal(0), Decimal(500)]),
    out_of_stock=st.sampled_from(list(OutOfStock)),
    removal=st.sampled_from(list(Removal)),
    albums=st.booleans(),
    managed=_mostly(ALL_FIELDS, frozenset(), ALL_FIELDS - {Field.PRICE},
                    ALL_FIELDS - {Field.ALBUMS}, frozenset({Field.PHOTO, Field.STOCK})),
)
catalogs = st.builds(
    SyncContext,
    settings=sync_settings,
    stores=st.just(STORES),
    groups=groups,
    products=st.lists(products, max_size=7).map(tuple),
    filters=_filter_lists,
)


@st.composite
def evolutions(draw: st.DrawFn) -> tuple[SyncContext, SyncContext]:
    """A catalog and the same catalog a while later: prices, stock and sale flags moved,
    goods added or removed, sometimes other settings or filters."""
    before = draw(catalogs)
    changed = [
        replace(goods, price=draw(prices), quantity=draw(_quantities),
                allow_to_sell=draw(_mostly(True, False)), removed=draw(_flags),
                group_id=draw(_mostly(goods.group_id, *GROUP_IDS)))
        for goods in before.products
    ]
    kept = [goods for goods in changed if draw(_mostly(True, False))]
    after = replace(before, products=(*kept, *draw(st.lists(products, max_size=2))))
    if draw(_flags):
        after = replace(after, settings=draw(sync_settings), filters=draw(_filter_lists))
    return before, after

# Whatever a crash, a hand edit in VK or an old bug may have left behind.
_vk_item = st.builds(
    VkItem,
    st.integers(1, 12),
    st.none() | st.sampled_from([*PRODUCT_IDS, "foreign"]),
    removed=st.booleans(),
    hidden=st.booleans(),
)
_link = st.builds(
    Link,
    st.sampled_from(PRODUCT_IDS),
    st.sampled_from(list(LinkState)),
    st.none() | st.integers(1, 14),
    payload_hash=st.sampled_from(["", "stale"]),
    album_group_id=_group_ids,
    published=st.none() | st.just({"price": "1.00"}),
)
_album = st.builds(
    AlbumLink,
    st.sampled_from(GROUP_IDS),
    st.none() | st.integers(100, 105),
    st.sampled_from(["Чай", ""]),
)


def _world(vk: list[VkItem], links: list[Link], albums: list[AlbumLink]) -> World:
    return World(
        vk={item.id: item for item in vk},
        links={link.product_id: link for link in links},
        albums=albums,
    )


messy_worlds = st.builds(
    _world,
    st.lists(_vk_item, unique_by=lambda item: item.id, max_size=8),
    st.lists(_link, unique_by=lambda link: link.product_id, max_size=6),
    # The database keeps one album link per group (a unique constraint).
    st.lists(_album, unique_by=lambda album: album.group_id, max_size=4),
)


# --- an in-test model of VK and the links ---------------------------------------------------


@dataclass
class World:
    vk: dict[int, VkItem] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    albums: list[AlbumLink] = field(default_factory=list)
    next_id: int = 1000

    def context(self, base: SyncContext, *, read_vk: bool = True) -> SyncContext:
        return replace(
            base,
            links=tuple(self.links.values()),
            albums=tuple(self.albums),
            vk_items=tuple(self.vk.values()) if read_vk else None,
        )


def _fresh_link(prior: Link | None, pid: str, item_id: int | None) -> Link:
    """The link after an op on ``item_id``: what it published is forgotten for a new item."""
    if prior is None or prior.vk_item_id != item_id:
        return Link(pid, LinkState.PUBLISHED, item_id)
    return prior


def _apply_item(world: World, op: ItemOp, settings_: SyncSettings) -> None:
    prior = world.links.get(op.product_id)
    if op.action in (Action.UNCHANGED, Action.SKIP, Action.INVALID):
        return
    if op.action in (Action.DELETE, Action.DELETE_DUPLICATE):
        assert op.vk_item_id is not None
        world.vk[op.vk_item_id] = replace(world.vk[op.vk_item_id], removed=True)
        if op.action is Action.DELETE:
            world.links[op.product_id] = Link(op.product_id, LinkState.DELETED)
        return
    item_id = op.vk_item_id
    if op.action is Action.CREATE:
        item_id, world.next_id = world.next_id, world.next_id + 1
        world.vk[item_id] = VkItem(item_id, op.product_id)
    assert item_id is not None
    link = _fresh_link(prior, op.product_id, item_id)
    if op.payload is None:  # HIDE, or ADOPT of an item that stays hidden
        world.vk[item_id] = replace(world.vk[item_id], hidden=True)
        world.links[op.product_id] = replace(link, state=LinkState.HIDDEN)
        return
    if op.unhide:
        world.vk[item_id] = replace(world.vk[item_id], hidden=False)
    managed = ALL_FIELDS if op.action is Action.CREATE else managed_fields(settings_)
    world.links[op.product_id] = replace(
        link,
        state=LinkState.PUBLISHED,
        payload_hash=op.payload_hash,
        photo_key=op.payload.photo_key,
        # As the executor records it: with the key that lets the next plan reuse the text.
        published={**(link.published or {}), **published_values(op.payload, managed),
                   DESCRIPTION_KEY: op.payload.description_key},
        album_group_id=op.payload.album_group_id,
    )


def _apply_album(world: World, op: AlbumOp) -> None:
    if op.action is AlbumAction.CREATE:
        world.albums = [a for a in world.albums if a.group_id != op.group_id]
        world.albums.append(AlbumLink(op.group_id, world.next_id, op.title))
        world.next_id += 1
    elif op.action is AlbumAction.RENAME:
        world.albums = [
            replace(a, title=op.title) if a.vk_album_id == op.vk_album_id else a
            for a in world.albums
        ]
    else:
        world.albums = [a for a in world.albums if a.vk_album_id != op.vk_album_id]


def apply_plan_to_model(world: World, plan: SyncPlan, settings_: SyncSettings) -> World:
    """What a successful executor run leaves in VK and in the links (albums first)."""
    for album_op in plan.albums:
        _apply_album(world, album_op)
    for item_op in plan.items:
        _apply_item(world, item_op, settings_)
    return world


# --- (1) a plan applied leaves nothing to do --------------------------------------------------


@FAST
@given(catalogs, messy_worlds)
def test_a_plan_applied_to_any_vk_state_leaves_nothing_to_write_and_no_duplicates(
    ctx: SyncContext, world: World
) -> None:
    # The catalog cache holds one row per Evotor id (unique per merchant).
    ctx = replace(ctx, products=tuple({p.id: p for p in ctx.products}.values()))
    apply_plan_to_model(world, plan_sync(world.context(ctx)), ctx.settings)
    again = plan_sync(world.context(ctx))
    assert again.writes == 0, again
    # …and no product shows twice: at most one live item per sku of ours.
    ours = {p.id for p in ctx.products} | set(world.links)
    live = [item.sku for item in world.vk.values() if not item.removed and item.sku in ours]
    assert len(live) == len(set(live))


@FAST
@given(evolutions(), st.booleans())
def test_a_changed_catalog_converges_in_one_run_with_or_without_reading_vk(
    evolution: tuple[SyncContext, SyncContext], read_vk: bool
) -> None:
    before, after = evolution
    world = World()
    apply_plan_to_model(world, plan_sync(world.context(before)), before.settings)
    apply_plan_to_model(world, plan_sync(world.context(after, read_vk=read_vk)), after.settings)
    assert plan_sync(world.context(after, read_vk=False)).writes == 0
    assert plan_sync(world.context(after)).writes == 0


# --- (2) prices -------------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False)


@FAST
@given(money, money, st.decimals(min_value=-99, max_value=300, places=1, allow_nan=False),
       money, st.sampled_from(list(Rounding)))
def test_vk_price_respects_minimum_and_rounds_monotonically(
    price: Decimal, other: Decimal, markup: Decimal, minimum: Decimal, rounding: Rounding
) -> None:
    from apps.sync.core.transform import vk_price

    config = make_settings(markup_percent=markup, min_price=minimum, rounding=rounding)
    result = vk_price(price, config)
    assert result >= minimum and result >= 0
    low, high = sorted([price, other])
    assert vk_price(low, config) <= vk_price(high, config)
    if rounding in (Rounding.TENS, Rounding.NINETY_NINE):
        assert result >= price * (1 + markup / 100)


# --- (3) filter precedence --------------------------------------------------------------------


def _chain(group_id: str | None, parents: dict[str, str | None]) -> list[str]:
    chain: list[str] = []
    while group_id is not None and group_id not in chain:
        chain.append(group_id)
        group_id = parents.get(group_id)
    return chain


@FAST
@given(groups, st.lists(filters, max_size=5), st.sampled_from(PRODUCT_IDS),
       st.sampled_from(GROUP_IDS), st.sampled_from(list(FilterMode)))
def test_product_filter_beats_groups_and_nearer_groups_beat_farther(
    tree: tuple[Group, ...], rules: list[Filter], pid: str, gid: str, mode: FilterMode
) -> None:
    tree = tuple(replace(g, store_id=STORE.id) for g in tree)
    goods = make_product(pid, group_id=gid)
    rules = [r for r in rules if r.entity_type is not FilterType.STORE]
    ctx = SyncContext(make_settings(), (STORE,), tree, (goods,), tuple(rules))
    verdict = decide(ctx)[pid]
    chain = _chain(gid, {g.id: g.parent_id for g in tree})
    # Any new group filter farther than the deciding one (or below a product filter) is moot.
    decider = chain.index(verdict.by) if verdict.by in chain else None
    if verdict.by == pid:
        farther = chain
    elif decider is not None:
        farther = chain[decider + 1:]
    else:
        farther = []
    for group_id in farther:
        extra = (*rules, Filter(FilterType.GROUP, group_id, mode))
        assert decide(replace(ctx, filters=extra))[pid] == verdict
    product_rule = (*rules, Filter(FilterType.PRODUCT, pid, mode))
    decided = decide(replace(ctx, filters=product_rule))[pid]
    if not any(r.entity_type is FilterType.PRODUCT and r.entity_id == pid for r in rules):
        assert (decided.included, decided.by) == (mode is FilterMode.INCLUDE, pid)


# --- (4) names and descriptions ---------------------------------------------------------------

LINKS = ["https://evil.example.com/a?b=1", "www.shop.ru", "магазин.рф/каталог", "example.com"]


@FAST
@given(st.text(min_size=1, max_size=300), st.lists(st.text(max_size=20), max_size=3),
       st.sampled_from(["", "кг", "шт", "x" * 200]))
def test_names_are_4_to_100_vk_length(name: str, values: list[str], measure: str) -> None:
    goods = make_product(name=name, measure_name=measure,
                         attributes=tuple(("attr", value) for value in values))
    result = item_name(goods)
    if squash(name):  # control characters and spaces alone are no name
        assert 4 <= vk_length(result) <= 100


@FAST
@given(st.lists(st.sampled_from(["{name}", "{price}", "{measure}", "{article}", "{description}",
                                 "{store}", "{x}", "\n", " ", "Цена:", *LINKS]), max_size=8),
       st.lists(st.text(max_size=40) | st.sampled_from(LINKS), max_size=4), names,
       st.text(max_size=10))
def test_descriptions_are_long_enough_and_hold_no_outside_links(
    pieces: list[str], text: list[str], name: str, article: str
) -> None:
    goods = make_product(name=name, description=" ".join(text), article=article)
    config = make_settings(description_template="".join(pieces))
    result = description(goods, "Магазин www.shop.ru", Decimal("10"), config)
    assert vk_length(result) >= 10
    # The contract is VK's: no outside link as a link detector sees one. (A literal such as
    # "example.comA" is one word, not a link, and may stay.)
    assert not has_outside_link(result)
