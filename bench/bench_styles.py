"""Classic-engine latency per style: ``python bench/bench_styles.py [--reps N] [--styles 201,104]``.

Prints milliseconds per style at 768x768 and 2000x1500 (scikit-image astronaut, resized): the median of
warm calls ("ms") and the first call with an empty texture cache ("cold", which includes generating the
textures for that size and seed). Then the peak RSS of a fresh process that stylizes one 4999x4999 input.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic import Engine, textures
from restyle.styles import catalogue

SIZES = ((768, 768), (2000, 1500))  # (width, height)


def photo(width: int, height: int) -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_AREA))


def timings_ms(image: np.ndarray, style_id: str, reps: int) -> tuple[float, float]:
    """(first call with an empty texture cache, median of ``reps`` warm calls) in milliseconds."""
    engine = Engine()
    request = StyleRequest(style=catalogue()[style_id], strength=0.8, seed=0)
    textures._cache.clear()
    start = time.perf_counter()
    engine.stylize(image, request)
    cold = (time.perf_counter() - start) * 1000.0
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        engine.stylize(image, request)
        times.append((time.perf_counter() - start) * 1000.0)
    return cold, statistics.median(times)


def peak_rss_mib(style_id: str, side: int) -> tuple[float, float]:
    """(RSS after imports, peak RSS) in MiB of a fresh interpreter that stylizes one ``side``² image.

    Linux keeps ``ru_maxrss`` across fork+exec, so a child would report this process's peak; the child
    reads its own high-water mark (VmHWM) instead and falls back to getrusage elsewhere.
    """
    code = (
        "import resource, numpy as np\n"
        "from restyle.engines import StyleRequest\n"
        "from restyle.engines.classic import Engine\n"
        "from restyle.styles import catalogue\n"
        "def rss(key):\n"
        "    try:\n"
        "        with open('/proc/self/status') as f:\n"
        "            return next(int(x.split()[1]) for x in f if x.startswith(key))\n"
        "    except OSError:\n"
        "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "base = rss('VmRSS')\n"
        f"img = np.random.default_rng(0).integers(0, 256, ({side}, {side}, 3), dtype=np.uint8)\n"
        f"Engine().stylize(img, StyleRequest(style=catalogue()[{style_id!r}], strength=0.8))\n"
        "print(base, rss('VmHWM'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    base, peak = (int(x) / 1024.0 for x in out.stdout.split()[-2:])  # KiB
    return base, peak


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--styles", default="", help="comma-separated style ids (default: all)")
    parser.add_argument("--rss-style", default="201")
    parser.add_argument("--rss-side", type=int, default=4999)
    args = parser.parse_args(argv)
    styles = [
        s
        for s in catalogue().values()
        if s.engine == "classic" and (not args.styles or s.id in args.styles.split(","))
    ]
    images = {size: photo(*size) for size in SIZES}
    columns = [f"{w}x{h} {kind}" for w, h in SIZES for kind in ("ms", "cold")]
    header = f"{'id':>4}  {'recipe':<13}" + "".join(f"{c:>16}" for c in columns)
    print(header)
    print("-" * len(header))
    worst = [0.0] * len(columns)
    for style in styles:
        cells = []
        for image in images.values():
            cold, warm = timings_ms(image, style.id, args.reps)
            cells += [warm, cold]
        worst = [max(a, b) for a, b in zip(worst, cells, strict=True)]
        print(f"{style.id:>4}  {style.recipe:<13}" + "".join(f"{c:>16.1f}" for c in cells), flush=True)
    print("-" * len(header))
    print(f"{'':>4}  {'worst':<13}" + "".join(f"{c:>16.1f}" for c in worst))
    base, peak = peak_rss_mib(args.rss_style, args.rss_side)
    side = args.rss_side
    print(
        f"peak RSS, style {args.rss_style} on {side}x{side}: {peak:.0f} MiB (after imports: {base:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
