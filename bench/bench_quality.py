"""Does each Tencent style read as its name? ``python bench/bench_quality.py [--styles 201,104] [--sheets]``.

For every classic Tencent style id, on 9 real photos (portrait ×2, group, landscape, city, animal, food,
flower, indoor: scikit-image's samples plus ``bench/photos/``, see its LICENSES.md), at a long side of 768:

- ``judge``: the bundled nsfwjs MobileNetV2's P(Drawing) + P(Hentai), mean over the photos (a learned
  photo-versus-illustration judge; the source photos score ~0.00). A sanity check, not the goal: judge
  by eye first, side by side (``--sheets``);
- ``min``: the lowest judge score over the photos;
- ``faces``: share of faces the shipped detector finds in the source that it still finds in the output
  (portrait photos only). A source face counts only if the detector also finds it in the mirrored source:
  a face reads as a face both ways round, while the one false positive of the set (a hand in the group
  photo, found at every scan size from 320 to 480 pixels) is not found mirrored; the 6 real faces are;
- ``edges``: correlation of the Sobel edge magnitude of output and source (structure kept; 1 = same edges);
- ``mod``: photos the default output moderator refuses (must be 0);
- ``ms 768``: median ms per call at 768x768, ``ms 2000``: at 2000x1500 (astronaut, resized).

``--sheets`` writes ``docs/styles/<id>.jpg`` (source row over styled row) and ``docs/styles/overview.jpg``.
``--json FILE`` saves the rows, ``--compare FILE`` prints the saved figures beside the new ones.
``--strength S`` runs every style at strength S instead of its catalogue default.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic import Engine
from restyle.faces import detect_faces
from restyle.moderators.nsfw import DEFAULT_THRESHOLDS, shared_classifier
from restyle.styles import Style, catalogue

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs" / "styles"
SIDE = 768
PORTRAITS = ("astronaut", "portrait-hopper", "group")
#: the illustrated styles the judge target applies to (issue 10), and the print styles (> 0.05)
DRAWN = ("201", "123", "210", "107", "124", "125", "203", "132", "104", "133", "134")
PRINTS = ("129", "130", "131")


def _fit(image: np.ndarray, side: int) -> np.ndarray:
    h, w = image.shape[:2]
    s = side / max(h, w)
    return np.ascontiguousarray(cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA))


def photos() -> dict[str, np.ndarray]:
    """name -> RGB uint8 photo with a long side of ``SIDE``."""
    from skimage import data

    found = {
        "astronaut": data.astronaut(),
        "chelsea": data.chelsea(),
        "coffee": data.coffee(),
        "rocket": data.rocket(),
        "motorcycle": data.stereo_motorcycle()[0],
    }
    for path in sorted((HERE / "photos").glob("*.jpg")):
        found[path.stem] = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    return {name: _fit(np.asarray(img)[..., :3], SIDE) for name, img in found.items()}


def judge(image: np.ndarray) -> float:
    scores = shared_classifier().scores(image)
    return scores["Drawing"] + scores["Hentai"]


def refused(image: np.ndarray) -> bool:
    scores = shared_classifier().scores(image)
    return any(scores[name] >= limit for name, limit in DEFAULT_THRESHOLDS.items())


def edge_correlation(a: np.ndarray, b: np.ndarray) -> float:
    def edges(img: np.ndarray) -> np.ndarray:
        g = cv2.GaussianBlur(cv2.cvtColor(_fit(img, 256), cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 1.0)
        return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)).ravel()

    return float(np.corrcoef(edges(a), edges(b))[0, 1])


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    return ix * iy > 0.3 * min(aw * ah, bw * bh)


def source_faces(source: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Faces the detector finds in ``source`` and again in its mirror image (a face is a face both ways
    round; the hand it takes for a face in the group photo is not found mirrored)."""
    width = source.shape[1]
    mirrored = [
        (width - x - w, y, w, h) for x, y, w, h in detect_faces(np.ascontiguousarray(source[:, ::-1]))
    ]
    return [f for f in detect_faces(source) if any(_overlaps(f, g) for g in mirrored)]


def faces_kept(source: np.ndarray, out: np.ndarray) -> tuple[int, int]:
    """(source faces, as ``source_faces``, found again in the output, source faces)."""
    before, after = source_faces(source), detect_faces(out)
    return sum(any(_overlaps(f, g) for g in after) for f in before), len(before)


def ms(engine: Engine, image: np.ndarray, request: StyleRequest, reps: int) -> float:
    engine.stylize(image, request)  # warm: textures for this size are cached after the first call
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        engine.stylize(image, request)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def row(style: Style, pics: dict[str, np.ndarray], strength: float | None, reps: int) -> dict[str, float]:
    engine = Engine()
    request = StyleRequest(style=style, strength=style.strength if strength is None else strength, seed=0)
    outs = {name: engine.stylize(img, request) for name, img in pics.items()}
    scores = [judge(o) for o in outs.values()]
    kept = total = 0
    for name in PORTRAITS:
        k, t = faces_kept(pics[name], outs[name])
        kept, total = kept + k, total + t
    astronaut = cv2.cvtColor(pics["astronaut"], cv2.COLOR_RGB2BGR)  # any photo; the size is what matters
    square = cv2.cvtColor(cv2.resize(astronaut, (768, 768)), cv2.COLOR_BGR2RGB)
    large = cv2.cvtColor(cv2.resize(astronaut, (2000, 1500)), cv2.COLOR_BGR2RGB)
    return {
        "judge": statistics.fmean(scores),
        "min": min(scores),
        "faces": kept / total if total else float("nan"),
        "edges": statistics.fmean(edge_correlation(pics[n], o) for n, o in outs.items()),
        "mod": float(sum(refused(o) for o in outs.values())),
        "ms768": ms(engine, square, request, reps) if reps else float("nan"),
        "ms2000": ms(engine, large, request, max(1, reps // 2)) if reps else float("nan"),
        "_outs": outs,  # type: ignore[dict-item]
    }


def _tile(image: np.ndarray, side: int) -> np.ndarray:
    h, w = image.shape[:2]
    s = side / max(h, w)
    small = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    canvas = np.full((side, side, 3), 255, np.uint8)
    y, x = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


def write_sheets(style: Style, pics: dict[str, np.ndarray], outs: dict[str, np.ndarray]) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    top = np.hstack([_tile(p, 320) for p in pics.values()])
    bottom = np.hstack([_tile(outs[n], 320) for n in pics])
    sheet = cv2.cvtColor(np.vstack([top, bottom]), cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(DOCS / f"{style.id}.jpg"), sheet, [cv2.IMWRITE_JPEG_QUALITY, 85])


def write_overview(pics: dict[str, np.ndarray], all_outs: dict[str, dict[str, np.ndarray]]) -> None:
    names = ["astronaut", "group", "chelsea", "city-china", "rocket", "flower"]
    names = [n for n in names if n in pics]
    rows = [np.hstack([_tile(pics[n], 200) for n in names])]
    for outs in all_outs.values():
        rows.append(np.hstack([_tile(outs[n], 200) for n in names]))
    cols = []
    for i in range(0, len(rows), 11):  # columns of up to 11 rows keep the sheet readable
        block = rows[i : i + 11]
        block += [np.full_like(rows[0], 255)] * (11 - len(block))
        cols.append(np.vstack(block))
    sheet = cv2.cvtColor(np.hstack(cols), cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(DOCS / "overview.jpg"), sheet, [cv2.IMWRITE_JPEG_QUALITY, 85])


COLUMNS = ("judge", "min", "faces", "edges", "mod", "ms768", "ms2000")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--styles", default="", help="comma-separated style ids (default: the 21 Tencent ids)"
    )
    parser.add_argument("--reps", type=int, default=3, help="timed calls per size (0: skip timing)")
    parser.add_argument("--strength", type=float, default=None)
    parser.add_argument("--sheets", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--compare", type=Path, default=None)
    args = parser.parse_args(argv)
    wanted = set(filter(None, args.styles.split(",")))
    styles = [s for s in catalogue().values() if s.engine == "classic" and int(s.id) < 900]
    styles = [s for s in styles if not wanted or s.id in wanted]
    pics = photos()
    source = [judge(p) for p in pics.values()]
    print(
        f"{len(pics)} photos ({', '.join(pics)}); judge on the sources: mean {statistics.fmean(source):.3f}"
    )
    old = json.loads(args.compare.read_text()) if args.compare else {}
    header = f"{'id':>4}  {'recipe':<13}" + "".join(f"{c:>8}" for c in COLUMNS)
    print(header + ("   (before: judge min faces ms768)" if old else ""))
    print("-" * len(header))
    saved: dict[str, dict[str, float]] = {}
    all_outs = {}
    for style in styles:
        r = row(style, pics, args.strength, args.reps)
        outs = r.pop("_outs")  # type: ignore[arg-type]
        all_outs[style.id] = outs
        saved[style.id] = r
        line = f"{style.id:>4}  {style.recipe:<13}" + "".join(
            f"{r[c]:>8.2f}" if c != "ms768" and c != "ms2000" else f"{r[c]:>8.0f}" for c in COLUMNS
        )
        if style.id in old:
            o = old[style.id]
            line += f"   ({o['judge']:.2f} {o['min']:.2f} {o['faces']:.2f} {o['ms768']:.0f})"
        print(line, flush=True)
        if args.sheets:
            write_sheets(style, pics, outs)  # type: ignore[arg-type]
    drawn = [saved[i]["judge"] for i in DRAWN if i in saved]
    if drawn:
        low = [i for i in DRAWN if i in saved and saved[i]["judge"] < 0.10]
        print(
            f"drawn styles: mean judge {statistics.fmean(drawn):.3f} (target >= 0.30), below 0.10: {low or 'none'}"
        )
    prints = [i for i in PRINTS if i in saved and saved[i]["judge"] <= 0.05]
    if any(i in saved for i in PRINTS):
        print(f"print styles at or below 0.05: {prints or 'none'}")
    faces = [saved[i]["faces"] for i in saved if not np.isnan(saved[i]["faces"])]
    if faces:
        print(f"faces kept: mean {statistics.fmean(faces):.2f}, worst {min(faces):.2f} (target >= 0.90)")
    print(f"refused by the output moderator: {int(sum(r['mod'] for r in saved.values()))} (target 0)")
    if args.sheets:
        write_overview(pics, all_outs)  # type: ignore[arg-type]
        print(f"contact sheets in {DOCS}")
    if args.json:
        args.json.write_text(json.dumps(saved, indent=1))


if __name__ == "__main__":
    main()
