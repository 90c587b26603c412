"""The sandbox's goods categories: a fixed subset in VK's id ranges (docs/vk.md#categories).

20173 «Батарейки» in section 10016 is VK's own recorded pair; the others are plausible names in
the 20000–20183 range, plus a few service categories (1200+). Enough for the product to pick one.
"""

from __future__ import annotations

from typing import Any

# section id -> (section name, [(category id, category name), ...])
SECTIONS: dict[int, tuple[str, list[tuple[int, str]]]] = {
    10001: (
        "Продукты питания",
        [
            (20001, "Кофе"),
            (20002, "Чай"),
            (20003, "Молочные продукты"),
            (20004, "Хлеб и выпечка"),
            (20005, "Бакалея"),
            (20006, "Напитки"),
            (20007, "Кондитерские изделия"),
            (20008, "Мясо и птица"),
            (20009, "Овощи и фрукты"),
        ],
    ),
    10002: (
        "Одежда и обувь",
        [(20020, "Футболки"), (20021, "Верхняя одежда"), (20022, "Обувь"), (20023, "Аксессуары")],
    ),
    10005: (
        "Дом и сад",
        [(20050, "Посуда"), (20051, "Текстиль"), (20052, "Бытовая химия"), (20053, "Растения")],
    ),
    10016: (
        "Канцелярские товары",
        [(20170, "Тетради и блокноты"), (20171, "Ручки и карандаши"), (20173, "Батарейки")],
    ),
    10020: ("Другое", [(20183, "Другие товары")]),
    1100: ("Услуги", [(1200, "Доставка"), (1201, "Ремонт"), (2322, "Другие услуги")]),
}

CATEGORIES: dict[int, tuple[str, int, str]] = {
    category_id: (name, section_id, section_name)
    for section_id, (section_name, categories) in SECTIONS.items()
    for category_id, name in categories
}


def is_known(category_id: int) -> bool:
    return category_id in CATEGORIES


def item_category(category_id: int) -> dict[str, Any]:
    """The *old* shape that live item replies still carry (docs/vk.md#market-item)."""
    name, section_id, section_name = CATEGORIES.get(category_id, ("", 0, ""))
    return {
        "inner_type": "market_market_category_old",
        "id": category_id,
        "name": name,
        "section": {"id": section_id, "name": section_name},
    }


def category_tree() -> dict[str, Any]:
    """``market.getCategories`` at 5.199: ``{"items": [tree]}`` (docs/vk.md#categories)."""
    return {
        "items": [
            {
                "id": section_id,
                "name": section_name,
                "children": [{"id": cid, "name": name} for cid, name in categories],
            }
            for section_id, (section_name, categories) in SECTIONS.items()
        ]
    }
