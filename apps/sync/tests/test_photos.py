"""Photos: square JPEGs ≥400×400 that VK accepts, byte-identical for identical inputs."""

import io
import struct
import zlib

import pytest
from PIL import Image, ImageChops

from apps.sync import photos
from apps.sync.photos import PHOTO_SIDE, PhotoError, content_hash, product_card, square_image

NAME = "Кофе по-венски 0,3 л"


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _assert_vk_photo(data: bytes) -> Image.Image:
    image = _open(data)
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert image.size == (PHOTO_SIDE, PHOTO_SIDE)
    assert PHOTO_SIDE >= 400  # VK's minimum
    assert "exif" not in image.info  # no metadata that could vary between runs
    return image


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 8) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def _ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Pixels in box that are far from the card's background (i.e. text)."""
    region = image.crop(box)
    background = Image.new("RGB", region.size, image.getpixel((PHOTO_SIDE - 5, PHOTO_SIDE // 2)))
    distance = ImageChops.difference(region, background).convert("L")
    return distance.point(lambda v: 255 if v > 40 else 0).histogram()[255]


# ---------------------------------------------------------------- product_card


def test_card_is_a_square_jpeg_vk_accepts():
    _assert_vk_photo(product_card(NAME, "Кофе и напитки", "Кофейня «Зерно»"))


def test_card_is_byte_identical_for_identical_inputs():
    first = product_card(NAME, "Кофе и напитки", "Кофейня «Зерно»")
    assert product_card(NAME, "Кофе и напитки", "Кофейня «Зерно»") == first
    assert content_hash(first) == content_hash(product_card(NAME, "Кофе и напитки",
                                                            "Кофейня «Зерно»"))


def test_cyrillic_name_is_actually_drawn():
    image = _open(product_card(NAME, "", ""))
    # The name sits in the middle band; Cyrillic bold at ≥34 px leaves thousands of dark pixels.
    assert _ink(image, (0, 150, PHOTO_SIDE, 650)) > 5000
    other = product_card("Чай зелёный с жасмином", "", "")
    assert other != product_card(NAME, "", "")


def test_cyrillic_glyphs_are_not_missing_boxes():
    assert all(photos._renderable(c) for c in "Кофе по-венски 0,3 лёЁйЙ«»№")


def test_group_decides_the_colour_deterministically():
    def background(group: str) -> tuple[int, ...]:
        return _open(product_card(NAME, group, "")).getpixel((PHOTO_SIDE - 5, PHOTO_SIDE - 5))

    colours = {background(g) for g in ("Кофе", "Выпечка", "Десерты", "Чай", "Соки", "Снеки")}
    assert len(colours) > 1  # groups are told apart by colour
    assert background("Кофе") == background("Кофе")
    expected, _accent = photos._palette("Кофе")
    assert _close(background("Кофе"), expected)


def test_card_has_a_thin_accent_bar_on_top():
    image = _open(product_card(NAME, "Кофе", ""))
    _background, accent = photos._palette("Кофе")
    assert _close(image.getpixel((PHOTO_SIDE // 2, 4)), accent, 12)
    assert not _close(image.getpixel((PHOTO_SIDE // 2, 40)), accent, 12)


def test_group_and_store_are_drawn_when_given():
    bare = _open(product_card(NAME, "", ""))
    full = _open(product_card(NAME, "Кофе и напитки", "Кофейня «Зерно» на Садовой"))
    top, bottom = (0, 60, PHOTO_SIDE, 150), (0, PHOTO_SIDE - 110, PHOTO_SIDE, PHOTO_SIDE)
    assert _ink(bare, top) == 0 and _ink(bare, bottom) == 0
    assert _ink(full, top) > 100 and _ink(full, bottom) > 100


@pytest.mark.parametrize(
    ("name", "group", "store"),
    [
        ("", "", ""),
        ("   ", "  ", "\n\t"),
        ("Суперкалифрагилистикэкспиалидоциозныйпродуктбезпробеловвообще" * 3, "", ""),
        ("Кофе ☕️ с 🧀 сыром 😀 👨‍👩‍👧 \x00\u200b\U0010fffd", "Напитки 🍹", "Лавка 🛒"),
        ("Очень длинное название товара " * 30, "Группа " * 30, "Магазин " * 30),
        ("Латте\u00adмакиато\u0301", "Café", "Shop"),
    ],
)
def test_card_survives_awkward_text(name, group, store):
    _assert_vk_photo(product_card(name, group, store))


def test_unsupported_glyphs_are_dropped_not_drawn_as_boxes():
    assert photos._clean("Кофе 🧀\u200dсыр\ufe0f\x07") == "Кофе сыр"


def test_long_name_shrinks_then_ellipsizes_within_five_lines():
    width = PHOTO_SIDE - 2 * photos.MARGIN
    short_font, short = photos._fit_name(NAME, width, 400)
    assert short_font.size == max(photos.NAME_SIZES) and len(short) <= 3
    font, lines = photos._fit_name("Очень длинное название товара " * 30, width, 400)
    assert font.size == min(photos.NAME_SIZES)
    assert len(lines) == photos.NAME_MAX_LINES
    assert lines[-1].endswith("…")
    assert all(font.getlength(line) <= width for line in lines)


def test_a_word_wider_than_the_card_is_split():
    font = photos._font(True, 60)
    lines = photos._wrap("А" * 60, font, 300)
    assert len(lines) > 1 and "".join(lines) == "А" * 60
    assert all(font.getlength(line) <= 300 for line in lines)


def test_units_stay_with_numbers_and_prepositions_with_nouns():
    assert photos._glue("Кофе по-венски 0,3 л") == ["Кофе", "по-венски", "0,3\u00a0л"]
    assert photos._glue("Сэндвич с индейкой") == ["Сэндвич", "с\u00a0индейкой"]


# ---------------------------------------------------------------- square_image


def test_transparent_png_is_flattened_on_white_and_upscaled():
    source = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    source.paste((200, 30, 30, 255), (100, 100, 200, 200))
    data = square_image(_encode(source, "PNG"))
    image = _assert_vk_photo(data)
    assert _close(image.getpixel((10, 10)), (255, 255, 255))  # not black
    assert _close(image.getpixel((400, 400)), (200, 30, 30))
    assert square_image(_encode(source, "PNG")) == data


def test_wide_image_is_scaled_to_the_side_and_padded_with_its_edge_colour():
    source = Image.new("RGB", (1000, 200), (40, 90, 160))
    source.paste((250, 250, 250), (400, 50, 600, 150))
    image = _assert_vk_photo(square_image(_encode(source, "JPEG", quality=95)))
    assert _close(image.getpixel((400, 20)), (40, 90, 160))  # padding matches the plain border
    assert _close(image.getpixel((400, 400)), (250, 250, 250))


def test_busy_border_is_padded_with_white():
    source = Image.linear_gradient("L").resize((400, 100)).convert("RGB")
    image = _assert_vk_photo(square_image(_encode(source, "PNG")))
    assert _close(image.getpixel((400, 20)), (255, 255, 255))


def test_cmyk_jpeg_is_converted_to_rgb():
    source = Image.new("CMYK", (300, 300), (0, 255, 255, 0))  # red in CMYK
    image = _assert_vk_photo(square_image(_encode(source, "JPEG")))
    red, green, blue = image.getpixel((400, 400))
    assert red > 200 and green < 60 and blue < 60


def test_palette_gif_with_transparency():
    source = Image.new("P", (120, 80), 0)
    source.putpalette([0, 0, 0, 20, 160, 60] + [0] * 762)
    source.paste(1, (30, 20, 90, 60))
    data = square_image(_encode(source, "GIF", transparency=0))
    image = _assert_vk_photo(data)
    assert _close(image.getpixel((5, 5)), (255, 255, 255))
    assert _close(image.getpixel((400, 400)), (20, 160, 60))


def test_exif_rotation_is_applied():
    source = Image.new("RGB", (400, 200), (255, 255, 255))
    source.paste((0, 0, 0), (0, 0, 200, 200))  # left half black
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    image = _assert_vk_photo(square_image(_encode(source, "JPEG", exif=exif.tobytes())))
    # Displayed upright, the image is tall: black on top, white below, padded left and right.
    assert _close(image.getpixel((400, 100)), (0, 0, 0), 30)
    assert _close(image.getpixel((400, 700)), (255, 255, 255), 30)


def test_webp_is_accepted():
    _assert_vk_photo(square_image(_encode(Image.new("RGB", (64, 64), (9, 9, 9)), "WEBP")))


@pytest.mark.parametrize("garbage", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_garbage_is_refused_with_a_readable_error(garbage):
    with pytest.raises(PhotoError, match=r"image"):
        square_image(garbage)


def test_truncated_image_is_refused():
    data = _encode(Image.effect_noise((300, 300), 64).convert("RGB"), "JPEG")
    with pytest.raises(PhotoError, match="damaged"):
        square_image(data[: len(data) // 3])


def test_unsupported_format_is_refused():
    with pytest.raises(PhotoError, match="not a supported image"):
        square_image(_encode(Image.new("RGB", (10, 10)), "TIFF"))


def _png_header(width: int, height: int) -> bytes:
    """A PNG that only claims its size: the guard must refuse it before decoding anything."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize(("width", "height"), [(20_000, 20_000), (100_000, 600), (8000, 6251)])
def test_decompression_bomb_is_refused(width, height):
    assert width * height > photos.MAX_PIXELS
    with pytest.raises(PhotoError, match="too large"):
        square_image(_png_header(width, height))


def test_zero_size_image_is_refused():
    with pytest.raises(PhotoError):
        square_image(_png_header(0, 10))


def test_content_hash_is_sha256_hex():
    assert content_hash(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
