"""Contact sheet of every style on one photo: ``python docs/make_gallery.py [out.jpg] [skimage photo]``.

Writes ``docs/gallery.jpg`` by default: the source photo then one labelled tile per style, each
rendered by the engine the catalogue names (engines that cannot run here are left out).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from restyle import plugins
from restyle.engines import REGISTRY, BaseEngine, StyleRequest
from restyle.styles import Style, catalogue


def _label(tile: np.ndarray, text: str) -> None:
    h = tile.shape[0]
    band = max(14, h // 12)
    tile[h - band :] = (tile[h - band :].astype(np.float32) * 0.35).astype(np.uint8)
    scale = band / 30.0
    cv2.putText(
        tile, text, (4, h - band // 4 - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
    )


def contact_sheet(
    image: np.ndarray,
    styles: Iterable[Style],
    tile: int = 256,
    *,
    strength: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """One ``tile``-pixel square per style (plus the source first), labelled, in rows of six. RGB uint8.

    Each style is stylized at twice the tile size, at ``strength`` or else the style's default strength.
    """
    h, w = image.shape[:2]
    side = min(h, w)
    square = image[(h - side) // 2 : (h - side) // 2 + side, (w - side) // 2 : (w - side) // 2 + side]
    square = np.ascontiguousarray(cv2.resize(square, (tile * 2, tile * 2), interpolation=cv2.INTER_AREA))
    engines: dict[str, BaseEngine] = {}
    tiles = []
    source = cv2.resize(square, (tile, tile), interpolation=cv2.INTER_AREA)
    _label(source, "source")
    tiles.append(source)
    for style in styles:
        if style.engine not in engines:
            engines[style.engine] = plugins.resolve("engine", style.engine, REGISTRY)()
        engine = engines[style.engine]
        if not engine.available()[0]:
            continue
        request = StyleRequest(
            style=style, strength=style.strength if strength is None else strength, seed=seed
        )
        out = engine.stylize(square, request)
        t = np.ascontiguousarray(cv2.resize(out, (tile, tile), interpolation=cv2.INTER_AREA))
        _label(t, f"{style.id} {style.en}")
        tiles.append(t)
    cols = 6
    rows = -(-len(tiles) // cols)
    sheet = np.full((rows * tile, cols * tile, 3), 255, np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        sheet[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = t
    return sheet


def main(argv: list[str]) -> None:
    from skimage import data

    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("gallery.jpg")
    photo = getattr(data, argv[2])() if len(argv) > 2 else data.astronaut()
    sheet = contact_sheet(photo, catalogue().values())
    params = [cv2.IMWRITE_JPEG_QUALITY, 88] if out.suffix.lower() in {".jpg", ".jpeg"} else []
    cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), params)
    print(out)


if __name__ == "__main__":
    main(sys.argv)
