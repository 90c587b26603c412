"""Product photos for VK market items (pure: no Django, no HTTP).

VK refuses an item without a photo (≥400×400) and will not attach one photo to two items, so every
published product gets its own JPEG: the Evotor image squared up (`square_image`), or a generated
card (`product_card`). Output is byte-identical for identical inputs, so a content hash tells the
sync whether a photo really changed and must be uploaded again. The card carries no price on
purpose: a price change must not force a new upload.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps, ImageStat

PHOTO_SIDE = 800
JPEG_QUALITY = 88
MAX_PIXELS = 50_000_000  # refuse decompression bombs before decoding a single pixel
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")  # no exotic decoders on untrusted bytes

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

# Card geometry (px on the PHOTO_SIDE canvas).
MARGIN = 72
BAR_HEIGHT = 14
GROUP_SIZE = 30
STORE_SIZE = 28
NAME_SIZES = tuple(range(76, 33, -4))  # largest first; shrink until the name fits
NAME_MAX_LINES = 5
LINE_SPACING = 1.2
ELLIPSIS = "…"
NBSP = "\u00a0"

TEXT_COLOUR = (31, 35, 40)
MUTED_COLOUR = (74, 80, 88)
WHITE = (255, 255, 255)

# (background, accent): soft pastels with a deeper tone of the same hue for the bar and label.
PALETTE: tuple[tuple[tuple[int, int, int], tuple[int, int, int]], ...] = (
    ((252, 232, 216), (201, 74, 18)),  # peach
    ((221, 243, 230), (43, 138, 62)),  # mint
    ((220, 235, 250), (24, 100, 171)),  # sky
    ((233, 227, 247), (95, 61, 196)),  # lavender
    ((250, 221, 225), (194, 37, 92)),  # rose
    ((251, 241, 208), (168, 106, 0)),  # butter
    ((213, 241, 240), (11, 114, 133)),  # aqua
    ((232, 236, 225), (92, 113, 72)),  # sage
)


class PhotoError(ValueError):
    """The bytes cannot be turned into a product photo (message is readable English)."""


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _to_jpeg(image: Image.Image) -> bytes:
    # Fixed settings and no EXIF/ICC/comment: same pixels -> same bytes -> same hash.
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False,
               subsampling=0)  # 4:4:4 keeps thin text edges free of colour fringes
    return out.getvalue()


@lru_cache(maxsize=64)
def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_BOLD if bold else FONT_REGULAR), size)


@lru_cache(maxsize=1)
def _notdef_masks() -> tuple[bytes, bytes]:
    # U+10FFFD is a private-use code point no font ships: its rendering is the "missing" box.
    return tuple(_mask(bold, "\U0010fffd") for bold in (False, True))  # type: ignore[return-value]


def _mask(bold: bool, char: str) -> bytes:
    mask = _font(bold, 16).getmask(char)
    return repr(mask.size).encode() + bytes(mask)


@lru_cache(maxsize=4096)
def _renderable(char: str) -> bool:
    # Controls, joiners, private use, unassigned; and combining marks / variation selectors, which
    # Pillow's basic layout cannot position (NFC has already composed й and ё).
    if unicodedata.category(char)[0] in "CM":
        return False
    if char.isspace():
        return True
    missing = _notdef_masks()
    return all(_mask(bold, char) != missing[bold] for bold in (False, True))


def _clean(text: str) -> str:
    """Drop what the font cannot draw (emoji, controls) instead of printing tofu boxes."""
    text = unicodedata.normalize("NFC", text or "")
    # Joiners and selectors (Cf, Mn) vanish; anything else unprintable still separates words.
    kept = "".join(c if _renderable(c) else " " * (unicodedata.category(c) not in ("Cf", "Mn"))
                   for c in text)
    return " ".join(kept.split())


def _split_long(word: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    # A word wider than the line (an article code, a long compound) is cut by characters.
    pieces, current = [], ""
    for char in word:
        if current and font.getlength(current + char) > width:
            pieces.append(current)
            current = ""
        current += char
    return pieces + [current] if current else pieces


def _glue(text: str) -> list[str]:
    """Words for wrapping; a unit stays with its number ("0,3 л"), a preposition with its noun."""
    words: list[str] = []
    pending = ""  # a short word waiting for the next one ("с", "и", "на")
    for word in text.split():  # no NBSP in input: _clean already made every space plain
        if len(word) <= 2 and words and not pending and words[-1][-1].isdigit():
            words[-1] += NBSP + word
        elif len(word) <= 2 and word.isalpha():
            pending += word + NBSP
        else:
            words.append(pending + word)
            pending = ""
    if pending:
        words.append(pending.rstrip(NBSP))
    return words


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, limit: int = 99) -> list[str]:
    """Greedy word wrap measured with the font; stops once more than `limit` lines are known."""
    lines: list[str] = []
    current = ""
    for word in _glue(text):
        if len(lines) > limit:
            break
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        *full, current = _split_long(word, font, width)
        lines.extend(full)
    return lines + [current] if current else lines


def _ellipsize(line: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    line = line.rstrip(" ,.;:-" + NBSP)
    while line and font.getlength(line + ELLIPSIS) > width:
        line = line[:-1].rstrip(" ,.;:-" + NBSP)
    return line + ELLIPSIS


def _fit_name(name: str, width: int, height: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """Largest size at which the name wraps into ≤ NAME_MAX_LINES lines within the box."""
    for size in NAME_SIZES:
        font = _font(True, size)
        lines = _wrap(name, font, width, NAME_MAX_LINES)
        if len(lines) <= NAME_MAX_LINES and len(lines) * round(size * LINE_SPACING) <= height:
            return font, lines
    if len(lines) > NAME_MAX_LINES:  # lines at the smallest size, from the last loop pass
        lines = lines[: NAME_MAX_LINES - 1] + [_ellipsize(lines[NAME_MAX_LINES - 1], font, width)]
    return font, lines


def _one_line(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    return text if font.getlength(text) <= width else _ellipsize(text, font, width)


def _palette(group: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    # Hash, not hash(): Python's str hash is salted per process, the colour must not be.
    digest = hashlib.sha256(group.strip().casefold().encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


# A retried or resumed run draws the same cards again; keeping the last few hundred (≈50 KB
# each) in the worker saves that CPU without holding a whole catalogue in memory.
@lru_cache(maxsize=256)
def product_card(name: str, group: str, store: str) -> bytes:
    """A PHOTO_SIDE square JPEG showing the product name, its group and the store."""
    name, group, store = _clean(name), _clean(group), _clean(store)
    background, accent = _palette(group)
    image = Image.new("RGB", (PHOTO_SIDE, PHOTO_SIDE), background)
    draw = ImageDraw.Draw(image)
    width = PHOTO_SIDE - 2 * MARGIN
    draw.rectangle((0, 0, PHOTO_SIDE - 1, BAR_HEIGHT - 1), fill=accent)

    top = MARGIN + BAR_HEIGHT
    if group:
        font = _font(True, GROUP_SIZE)
        draw.text((MARGIN, top), _one_line(group.upper(), font, width), font=font, fill=accent,
                  anchor="lt")
        draw.rectangle((MARGIN, top + 50, MARGIN + 64, top + 54), fill=accent)
        top += 100

    bottom = PHOTO_SIDE - MARGIN
    if store:
        font = _font(False, STORE_SIZE)
        draw.text((MARGIN, bottom), _one_line(store, font, width), font=font, fill=MUTED_COLOUR,
                  anchor="ls")
        bottom -= STORE_SIZE + 40
        draw.line((MARGIN, bottom + 12, PHOTO_SIDE - MARGIN, bottom + 12), fill=accent, width=2)

    _draw_name(draw, name, top, bottom - 16, width)
    return _to_jpeg(image)


def _draw_name(draw: ImageDraw.ImageDraw, name: str, top: int, bottom: int, width: int) -> None:
    if not name:
        return
    font, lines = _fit_name(name, width, bottom - top)
    line_h = round(font.size * LINE_SPACING)
    ascent, descent = font.getmetrics()
    block = (len(lines) - 1) * line_h + ascent + descent
    # Centre the block in the free space, so short names do not float at the top edge.
    y = top + max(0, (bottom - top - block) // 2) + ascent
    for line in lines:
        draw.text((MARGIN, y), line, font=font, fill=TEXT_COLOUR, anchor="ls")
        y += line_h


def _open(content: bytes) -> Image.Image:
    if not content:
        raise PhotoError("The image is empty (0 bytes).")
    try:
        image = Image.open(io.BytesIO(content), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as exc:  # Pillow's own, far higher limit
        raise PhotoError(f"The image is too large ({exc}).") from exc
    except Exception as exc:  # Pillow raises a zoo of types on junk; all mean "not an image"
        raise PhotoError("The data is not a supported image (JPEG, PNG, GIF, WebP, BMP).") from exc
    width, height = image.size  # header only: nothing is decoded yet
    if width <= 0 or height <= 0:
        raise PhotoError(f"The image has no pixels ({width}×{height}).")
    if width * height > MAX_PIXELS:
        raise PhotoError(f"The image is too large ({width}×{height} px; the limit is "
                         f"{MAX_PIXELS // 1_000_000} megapixels).")
    try:
        image.load()
        return ImageOps.exif_transpose(image) or image
    except Exception as exc:  # truncated or corrupt pixel data
        raise PhotoError("The image data is damaged and cannot be decoded.") from exc


def _flatten(image: Image.Image) -> Image.Image:
    # Transparent pixels become white (how a shop photo on a page looks), not black.
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, WHITE)
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def _edge_colour(image: Image.Image) -> tuple[int, int, int]:
    """The border's colour when the border is plain (studio backdrop), else white."""
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).rectangle((0, 0, image.width - 1, image.height - 1), outline=255)
    stat = ImageStat.Stat(image, mask)
    if max(stat.stddev) > 6:  # a busy border: padding with one colour of it would look odd
        return WHITE
    return tuple(round(v) for v in stat.mean)  # type: ignore[return-value]


def square_image(content: bytes) -> bytes:
    """The Evotor image as a PHOTO_SIDE square JPEG: flattened, scaled, padded, no metadata."""
    image = _flatten(_open(content))
    scale = PHOTO_SIDE / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (PHOTO_SIDE, PHOTO_SIDE), _edge_colour(image))
    canvas.paste(image, ((PHOTO_SIDE - size[0]) // 2, (PHOTO_SIDE - size[1]) // 2))
    return _to_jpeg(canvas)
