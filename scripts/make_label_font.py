"""Build the tiny font that draws the default AI label (run by hand; not needed at run time).

restyle writes "图片由 AI 生成" on results and must do so offline, on machines without CJK fonts, so it
ships a subset of Noto Sans SC (SIL OFL 1.1) holding only the glyphs the label needs: the five Han
characters plus printable ASCII (for other label texts and for measuring).

Source: the npm package ``@fontsource/noto-sans-sc`` (static instances of Google's Noto Sans SC, split
by unicode range). Its ``chinese-simplified`` file already holds ASCII too, so no merge is needed::

    cd /tmp && npm pack @fontsource/noto-sans-sc@5.3.0 && tar xzf fontsource-noto-sans-sc-5.3.0.tgz
    python -m venv /tmp/fontvenv && /tmp/fontvenv/bin/pip install fonttools brotli
    /tmp/fontvenv/bin/python scripts/make_label_font.py \\
        /tmp/package/files/noto-sans-sc-chinese-simplified-500-normal.woff2

fontTools and brotli are needed only here, never by restyle itself.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "restyle" / "assets" / "fonts"
OUT_NAME = "NotoSansSC-label-subset.ttf"
LABEL_HAN = "图片由生成"
TEXT = LABEL_HAN + "".join(chr(c) for c in range(0x20, 0x7F))
FAMILY = "Noto Sans SC Label Subset"


UI_NAME = "NotoSansSC-ui-subset.woff2"
UI_FAMILY = "Noto Sans SC UI Subset"
UI_SOURCES = ("src/restyle/styles.toml", "src/restyle/assets/playground/index.html",
              "src/restyle/assets/playground/playground.js")  # fmt: skip


def ui_text() -> str:
    """Every non-ASCII character the playground can show: style names and the page's own text."""
    chars = {c for rel in UI_SOURCES for c in (ROOT / rel).read_text(encoding="utf-8") if ord(c) > 0x7F}
    return "".join(sorted(chars))


def build(source: Path, out: Path, text: str = TEXT, family: str = FAMILY, flavor: str | None = None) -> None:
    options = subset.Options()
    options.notdef_outline = True  # keep the .notdef box: tests compare label glyphs against it
    options.hinting = False  # label sizes are large enough; saves most of the bytes
    options.layout_features = ["kern", "palt", "halt"]  # spacing only; no vertical / locl forms
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.drop_tables += ["BASE", "STAT", "vhea", "vmtx", "gasp", "prep"]
    font = TTFont(str(source), recalcTimestamp=False)  # reproducible bytes
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    # A modified OFL font is renamed to make clear it is not the original (OFL 1.1 §3, good practice;
    # Noto reserves no font name).
    name = font["name"]
    for rec in list(name.names):
        if rec.nameID in (1, 4):
            name.setName(family, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
        elif rec.nameID == 6:
            name.setName(family.replace(" ", ""), rec.nameID, rec.platformID, rec.platEncID, rec.langID)
        elif rec.nameID == 3:
            name.setName(
                f"{family}; {rec.toUnicode()}", rec.nameID, rec.platformID, rec.platEncID, rec.langID
            )
    # the label font is plain TrueType (FreeType may be built without brotli); the web font is woff2
    font.flavor = flavor
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(out))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "source", type=Path, help="a Noto Sans SC woff2/woff/ttf holding 图片由生成 and ASCII"
    )
    parser.add_argument(
        "--licence", type=Path, help="the package's LICENSE (OFL 1.1 text) to copy as OFL.txt"
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--ui", action="store_true", help="build the playground's web font (style names, page text) instead"
    )
    args = parser.parse_args()
    if args.ui:
        args.out = args.out or ROOT / "src" / "restyle" / "assets" / "playground" / UI_NAME
        build(args.source, args.out, TEXT + ui_text(), UI_FAMILY, "woff2")
    else:
        args.out = args.out or OUT_DIR / OUT_NAME
        build(args.source, args.out)
    licence = args.licence or args.source.parent.parent / "LICENSE"
    if licence.exists():
        shutil.copyfile(licence, args.out.parent / "OFL.txt")
    data = args.out.read_bytes()
    print(f"{args.out}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")  # noqa: T201


if __name__ == "__main__":
    main()
