"""Text as VK measures and polices it: its length count, word-boundary cuts, no outside links.

VK counts a string's length in cp1251 and turns every other character into an HTML entity
(``&#128512;``) before counting, so an emoji costs 9 and a Cyrillic letter 1 (docs/architecture.md,
"Sync semantics"). VK also refuses a description with a link outside VK (error 1408).
"""

from __future__ import annotations

import functools
import re

# Trailing characters a cut name or text must not end with: a dangling comma or dash reads as
# a mistake on the VK card.
_TRAILING = " \t\n,.;:!?-‐–—(/\\|&+«\"'[{*#№_"

# Top-level domains that turn "word.tld" into a link for VK's filter. A closed list rather than
# "any two letters": "1.5кг" or "т.е." are not links, "shop.ru" and "магазин.рф" are.
_LATIN_TLDS = (
    "ru", "su", "com", "net", "org", "info", "biz", "io", "me", "co", "cc", "tv", "online", "site",
    "shop", "store", "pro", "app", "dev", "by", "kz", "ua", "uz", "am", "ge", "de", "uk", "us",
    "eu", "xyz", "club", "top", "moscow", "space", "website", "link", "ly", "gl", "to", "gg", "ai",
    "page", "market", "tech", "fun", "live", "blog",
)
_CYRILLIC_TLDS = ("рф", "рус")


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_LABEL_CHAR = "a-z0-9а-яё"
_LABEL = rf"[{_LABEL_CHAR}](?:[{_LABEL_CHAR}-]{{0,61}}[{_LABEL_CHAR}])?"
_URL_TAIL = r"[^\s<>\"'«»]*"
# A TLD ends where its letters do: "example.comЧай" and "example.com2024" name example.com.
_TLD = (
    rf"(?:(?:{_alternation(_LATIN_TLDS)})(?![a-z-])"
    rf"|(?:{_alternation(_CYRILLIC_TLDS)})(?![а-яё0-9-]))"
)
_LINK_RE = re.compile(
    rf"(?:https?://|www\.)[^\s<>\"'«»]+"
    # A bare domain starts where domain letters do, whatever script is before it:
    # "купить中example.com" still names example.com for VK. An e-mail address goes whole:
    # its domain is a link as much as any.
    rf"|(?<![{_LABEL_CHAR}.-])(?:[\w.+-]{{1,64}}@)?(?:{_LABEL}\.)+{_TLD}(?:[/?#]{_URL_TAIL})?",
    re.IGNORECASE,
)
_VK_HOSTS = ("vk.com", "vk.ru")
_HOST_RE = re.compile(r"^(?:https?://)?([^/?#:\s]+)", re.IGNORECASE)


@functools.lru_cache(maxsize=8192)
def _char_length(char: str) -> int:
    try:
        char.encode("cp1251")
    except UnicodeEncodeError:
        return len(f"&#{ord(char)};")
    return 1


def vk_length(text: str) -> int:
    """The length VK checks its limits against (name 4..100, description ≥ 10)."""
    # What VK does, in one go: cp1251, one byte a character, every other character an entity.
    return len(text.encode("cp1251", "xmlcharrefreplace"))


# Unicode's control characters (category Cc) are exactly these and will stay so (Unicode's
# stability policy): a translation table replaces them without a per-character lookup.
_CONTROLS = [*range(0x00, 0x20), *range(0x7F, 0xA0)]
_CONTROLS_TO_SPACE = dict.fromkeys(_CONTROLS, " ")
_CONTROLS_BUT_NEWLINE_TO_SPACE = dict.fromkeys((c for c in _CONTROLS if c != 0x0A), " ")


def squash(text: str) -> str:
    """One line: control characters dropped, whitespace runs collapsed, trimmed."""
    return " ".join(text.translate(_CONTROLS_TO_SPACE).split())


def _fitting_prefix_end(text: str, limit: int) -> int:
    used = 0
    for index, char in enumerate(text):
        used += _char_length(char)
        if used > limit:
            return index
    return len(text)


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` VK-length on a word boundary, without trailing punctuation.

    A cut that would lose more than half of what fits (one huge word) is made hard instead:
    "Сверхдлиннослов" beats "Ой".
    """
    if vk_length(text) <= limit:
        return text
    end = _fitting_prefix_end(text, limit)
    head = text[:end]
    if not text[end].isspace():
        last_space = max((i for i, char in enumerate(head) if char.isspace()), default=-1)
        if last_space > len(head) // 2:
            head = head[:last_space]
    return head.rstrip(_TRAILING) or head.rstrip() or head


def _is_vk_link(link: str) -> bool:
    match = _HOST_RE.match(link)
    host = match.group(1).lower() if match else ""
    host = host.removeprefix("www.")
    return any(host == vk or host.endswith("." + vk) for vk in _VK_HOSTS)


def _drop_outside_link(match: re.Match[str]) -> str:
    return match.group(0) if _is_vk_link(match.group(0)) else ""


def strip_links(text: str) -> str:
    """``text`` without links outside VK; repeated because a removal can glue a new one."""
    for _ in range(5):
        stripped = _LINK_RE.sub(_drop_outside_link, text)
        if stripped == text:
            break
        text = stripped
    return text


def has_outside_link(text: str) -> bool:
    """Whether VK would refuse ``text`` for a link (error 1408); also for template checks."""
    return any(not _is_vk_link(m.group(0)) for m in _LINK_RE.finditer(text))


def tidy_lines(text: str) -> str:
    """Spaces collapsed within lines, at most one blank line in a row, trimmed."""
    lines = [" ".join(line.split()) for line in squash_keep_newlines(text).split("\n")]
    joined = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", joined).strip()


def squash_keep_newlines(text: str) -> str:
    """Control characters other than newlines become spaces; CR/LF pairs become newlines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_CONTROLS_BUT_NEWLINE_TO_SPACE)
