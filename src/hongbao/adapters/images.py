"""PNG images of open packets: the QR code of a share link (segno) and the password card (Pillow, a CJK font).

The Chinese font is Noto Sans CJK SC (Google and Adobe, SIL Open Font License 1.1), installed with the
package through the pinned PyPI distribution `noto-cjk-sans-otc` (a wheel holding only the font file and its
licence); Debian's copy of the same font (fonts-noto-cjk) or a WenQuanYi font is used if that package is missing,
and `FontMissing` is raised if none is found, never a card of empty boxes.
"""

from __future__ import annotations

import importlib.util
import io
import re
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

CARD_W, CARD_H = 720, 960
RED, GOLD, CREAM = (206, 32, 41), (246, 199, 94), (255, 243, 214)
# In a Noto Sans CJK collection the faces are JP, KR, SC, TC, HK: SC draws the Simplified Chinese glyph shapes.
NOTO_CJK_SC_INDEX = 2
SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


class FontMissing(RuntimeError):
    """Raised when no font with Chinese glyphs is installed (reinstall the package: it depends on one)."""


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    spec = importlib.util.find_spec("noto_cjk_sans_otc")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "NotoSansCJK-Regular.ttc"
        if bundled.exists():
            return bundled
    for candidate in SYSTEM_FONTS:
        if Path(candidate).exists():
            return Path(candidate)
    raise FontMissing("No CJK font found: install the pinned noto-cjk-sans-otc package (pip install -e .).")


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont:
    path = cjk_font_path()
    return ImageFont.truetype(str(path), size, index=NOTO_CJK_SC_INDEX if path.name.startswith("NotoSansCJK") else 0)


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """A QR code (error correction M, quiet zone of 4 modules) encoding `url`, as PNG."""
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break `text` into lines no wider than `width`: between Chinese characters, or between Latin words."""
    lines, line = [], ""
    for piece in re.findall(r"[^\W_]+\s*|\s+|.", text, flags=re.ASCII):
        if draw.textlength(line + piece.rstrip(), font=font) > width and line.strip():
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
    return [*lines, line.rstrip()] if line.strip() else lines


def _centred(draw: ImageDraw.ImageDraw, y: int, text: str, font: ImageFont.FreeTypeFont, fill: tuple[int, ...],
             width: int = CARD_W - 120) -> int:
    for line in _wrap(draw, text, font, width):
        w = draw.textlength(line, font=font)
        draw.text(((CARD_W - w) / 2, y), line, font=font, fill=fill)
        y += int(font.size * 1.35)
    return y


def card_png(*, greeting: str, sender: str, phrase: str | None, brand: str = "hongbao 红包") -> bytes:
    """The password card: greeting, the phrase (or, when it is withheld, how to claim), branding."""
    img = Image.new("RGB", (CARD_W, CARD_H), RED)
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((24, 24, CARD_W - 24, CARD_H - 24), radius=36, outline=GOLD, width=6)
    draw.ellipse((CARD_W / 2 - 70, 90, CARD_W / 2 + 70, 230), fill=GOLD)
    seal_font = _font(96)
    w = draw.textlength("福", font=seal_font)
    draw.text(((CARD_W - w) / 2, 104), "福", font=seal_font, fill=RED)
    y = _centred(draw, 280, "口令红包 · Password red packet", _font(34), CREAM)
    y = _centred(draw, y + 20, f"{sender} 发了一个口令红包", _font(30), CREAM)
    y = _centred(draw, y + 30, f"“{greeting}”", _font(40), GOLD)
    box_top = max(y + 40, 560)
    draw.rounded_rectangle((70, box_top, CARD_W - 70, box_top + 220), radius=24, fill=CREAM)
    if phrase is not None:
        _centred(draw, box_top + 30, "输入口令领取 · Type this phrase", _font(26), RED)
        _centred(draw, box_top + 90, phrase, _font(44), RED, width=CARD_W - 180)
    else:
        _centred(draw, box_top + 50, "输入你收到的口令", _font(40), RED)
        _centred(draw, box_top + 120, "Type the phrase you were given", _font(30), RED)
    _centred(draw, CARD_H - 110, brand, _font(28), GOLD)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


@lru_cache(maxsize=1)
def favicon_ico() -> bytes:
    """The app's icon (static/icon.svg: a red packet with a gold seal) as /favicon.ico, 16 to 48 px.

    Browsers ask every page's origin for /favicon.ico by themselves (the share landing page, /docs): a 404 there
    showed a blank tab icon and a failed request in every console."""
    size = 192
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((30, 12, 162, 180), radius=18, fill=RED)
    draw.chord((30, -60, 162, 78), 0, 180, fill=(170, 24, 32))
    draw.ellipse((69, 51, 123, 105), fill=GOLD)
    out = io.BytesIO()
    image.save(out, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return out.getvalue()
