"""Pipeline stages besides stylisation: ``python bench/bench_stages.py [--reps N]``.

The steps around the engine must stay small next to it: the output moderator runs twice per job (input
and output), RestoreFace and EnhanceImage once when asked. Prints the median and best milliseconds of
``reps`` warm calls per stage on the scikit-image astronaut, and each stage as a share of the median
stylisation time of style 201 at the same size, measured in the same run (ratios survive a noisy host).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic import Engine
from restyle.imaging.arrays import U8
from restyle.moderators import nsfw
from restyle.restorers import detail
from restyle.styles import catalogue
from restyle.upscalers import esrgan, sharpen


def photo(side: int) -> U8:
    from skimage import data

    return np.ascontiguousarray(cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_AREA))


def timed(fn: Callable[[], object], reps: int) -> tuple[float, float]:
    """(median, best) milliseconds of ``reps`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times), min(times)


def stages(side: int) -> dict[str, Callable[[], object]]:
    image = photo(side)
    styled = Engine().stylize(image, StyleRequest(style=catalogue()["201"], strength=0.8, seed=0))
    classifier = nsfw.Classifier()
    restorer, unsharp = detail.Restorer(), sharpen.Upscaler()
    out: dict[str, Callable[[], object]] = {
        "stylize 201 (reference)": lambda: Engine().stylize(
            image, StyleRequest(style=catalogue()["201"], strength=0.8, seed=0)
        ),
        "moderate (nsfw, 224 px)": lambda: classifier.scores(styled),
        "restore faces (detail)": lambda: restorer.restore(image, styled, 6),
        "enhance (sharpen)": lambda: unsharp.enhance(styled),
    }
    learned = esrgan.Upscaler()
    if learned.available()[0]:
        out["enhance (esrgan)"] = lambda: learned.enhance(styled)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--side", type=int, default=768)
    args = parser.parse_args()
    rows = {name: timed(fn, args.reps) for name, fn in stages(args.side).items()}
    reference = rows["stylize 201 (reference)"][0]
    print(f"{args.side}x{args.side}, {args.reps} warm calls each")
    print(f"{'stage':28} {'median ms':>10} {'best ms':>9} {'of stylize':>11}")
    for name, (median, best) in rows.items():
        print(f"{name:28} {median:10.1f} {best:9.1f} {median / reference:10.1%}")


if __name__ == "__main__":
    main()
