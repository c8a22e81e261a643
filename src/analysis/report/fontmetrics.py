"""Text widths in Times New Roman, from Liberation Serif's metrics shipped with the package.

The heading of an administrative document (Nghị định 30/2020) must keep each element on one
line: the two columns of the heading table are sized from the measured width of their lines.
Liberation Serif is metric-compatible with Times New Roman (same advance width for every
glyph), so its widths hold for Word and for LibreOffice. They are shipped
(``templates/liberation_serif_widths.json``: advance widths of the Vietnamese alphabet, digits
and punctuation, in font units) so that the template builds to the same bytes on a machine
without the font; ``extract`` regenerates them from the font files, and a test compares the two
when the fonts are installed (``fonts-liberation2``).

    text_width_cm("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, bold=True)  # about 8,83 cm
    python -m analysis.report.fontmetrics [font_dir]     # rewrite the shipped table
"""

from __future__ import annotations

import functools
import json
import sys
import unicodedata
from pathlib import Path

from analysis import paths

WIDTHS_PATH = paths.TEMPLATES_DIR / "liberation_serif_widths.json"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
    Path("/usr/share/fonts/liberation-serif"),
)
STYLES = {
    "regular": "LiberationSerif-Regular.ttf",
    "bold": "LiberationSerif-Bold.ttf",
    "italic": "LiberationSerif-Italic.ttf",
    "bold_italic": "LiberationSerif-BoldItalic.ttf",
}
_VOWELS = "aăâeêioôơuưy"
_TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng


def charset() -> str:
    """Every character the measured texts may hold: ASCII, Vietnamese letters with every
    tone (both cases), and the punctuation of the documents."""
    chars = {chr(c) for c in range(0x20, 0x7F)}
    for vowel in _VOWELS:
        for tone in ("", *_TONES):
            letter = unicodedata.normalize("NFC", vowel + tone)
            chars |= {letter, letter.upper()}
    chars |= set("đĐ–—…“”‘’·°ºª")
    return "".join(sorted(chars))


def find_font_dir() -> Path | None:
    for folder in FONT_DIRS:
        if all((folder / name).is_file() for name in STYLES.values()):
            return folder
    return None


def extract(font_dir: Path | str) -> dict:
    """The advance widths of ``charset()`` in each style, read from the font files."""
    from fontTools.ttLib import TTFont

    out: dict = {"units_per_em": None, "styles": {}}
    for style, name in STYLES.items():
        font = TTFont(str(Path(font_dir) / name))
        cmap, hmtx = font.getBestCmap(), font["hmtx"]
        out["units_per_em"] = font["head"].unitsPerEm
        out["styles"][style] = {ch: hmtx[cmap[ord(ch)]][0] for ch in charset() if ord(ch) in cmap}
    return out


@functools.cache
def _table() -> dict:
    return json.loads(WIDTHS_PATH.read_text(encoding="utf-8"))


def text_width_cm(text: str, size_pt: float, bold: bool = False, italic: bool = False) -> float:
    """The width of ``text`` (NFC) set in Times New Roman at ``size_pt``, in cm (no kerning).

    A character outside the table counts as the widest letter ('W'), so a measure is never
    too short.
    """
    table = _table()
    style = {(False, False): "regular", (True, False): "bold", (False, True): "italic",
             (True, True): "bold_italic"}[(bool(bold), bool(italic))]  # fmt: skip
    widths = table["styles"][style]
    units = sum(widths.get(ch, widths["W"]) for ch in unicodedata.normalize("NFC", text))
    return units / table["units_per_em"] * size_pt / 72 * 2.54


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0]) if argv else find_font_dir()
    if folder is None:
        print("Không tìm thấy phông Liberation Serif (apt-get install fonts-liberation2).")
        return 1
    text = json.dumps(extract(folder), ensure_ascii=False, indent=1, sort_keys=True)
    WIDTHS_PATH.write_text(text + "\n", encoding="utf-8")
    print(f"Đã ghi {WIDTHS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
