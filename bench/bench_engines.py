"""ms per engine and style at 768² and 2000×1500 on CPU, with peak memory (RSS); GPU numbers when present.

Each case runs in its own process (so the peak RSS is that case's alone): one warm-up call, then the median
of ``--repeat`` calls. The diffusion engine runs the tiny random pipeline of the tests (it measures the code
path, not a real checkpoint). ``--all`` benches every onnx style; the default is a representative set.

    .venv/bin/python bench/bench_engines.py            # prints a table
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = [(768, 768), (2000, 1500)]
DEFAULT = [
    ("classic", "201"),
    ("classic", "104"),
    ("onnx", "900"),
    ("onnx", "905"),
    ("onnx", "916"),
    ("onnx", "919"),
    ("onnx", "950"),
    ("onnx", "952"),
    ("esrgan", "EnhanceImage"),
    ("diffusion", "tiny"),
]


def photo(width: int, height: int) -> object:
    import numpy as np
    from PIL import Image
    from skimage import data

    return np.asarray(Image.fromarray(data.astronaut()).resize((width, height), Image.Resampling.LANCZOS))


def run_case(
    engine: str, style_id: str, width: int, height: int, repeat: int, threads: int, ckpt: str
) -> dict:
    from restyle.engines import StyleRequest
    from restyle.styles import Style, catalogue

    img = photo(width, height)
    if engine == "esrgan":
        from restyle.upscalers.esrgan import Upscaler

        up = Upscaler(threads=threads)
        fn = lambda: up.enhance(img)  # noqa: E731
    elif engine == "diffusion":
        from restyle.engines.diffusion import Engine as Diffusion

        eng = Diffusion(checkpoint=Path(ckpt), steps=10)
        style = Style(
            "990",
            "油画",
            "Oil",
            "diffusion",
            "img2img",
            0.6,
            True,
            "slow",
            {"max_side": 256},
            "{prompt}, oil painting",
        )
        req = StyleRequest(style=style, strength=0.6, prompt="a cat", seed=1)
        fn = lambda: eng.stylize(img, req)  # noqa: E731
    else:
        from restyle import engines
        from restyle.config import load_settings
        from restyle.service import build_plugin

        settings = load_settings(None, onnx_threads=threads)
        eng = build_plugin("engine", engine, engines.REGISTRY, settings)
        style = catalogue()[style_id]
        req = StyleRequest(style=style, strength=style.strength)
        fn = lambda: eng.stylize(img, req)  # noqa: E731
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "ms": statistics.median(times),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def tiny_checkpoint(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.engines.tiny_diffusion import build_tiny_pipeline

    return build_tiny_pipeline(folder)


def gpu() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except ImportError:
        pass
    try:
        import onnxruntime as ort

        if "CUDAExecutionProvider" in ort.get_available_providers():
            return "onnxruntime CUDA"
    except ImportError:
        pass
    return ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--all", action="store_true", help="every onnx style of the catalogue")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads (0 = all cores)")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument(
        "--device",
        help="diffusion only, on this device (cuda, cpu): bench/bench_diffusion.py's table "
        "(512² and 768², 1/2/4/default steps, batching, peak memory); other options pass through",
    )
    args, rest = ap.parse_known_args()
    if args.device:
        cmd = [sys.executable, str(ROOT / "bench" / "bench_diffusion.py"), "--device", args.device]
        cmd += ["--repeat", str(args.repeat), *rest]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        raise SystemExit(subprocess.run(cmd, cwd=ROOT, check=False).returncode)
    if rest:
        ap.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.case:  # worker: one case, JSON on stdout
        engine, style_id, w, h, ckpt = json.loads(args.case)
        print(json.dumps(run_case(engine, style_id, w, h, args.repeat, args.threads, ckpt)))
        return
    cases = list(DEFAULT)
    if args.all:
        from restyle.styles import catalogue

        cases = [c for c in cases if c[0] != "onnx"]
        cases += [("onnx", s.id) for s in catalogue().values() if s.engine == "onnx"]
    from restyle.styles import catalogue

    names = {s.id: s.en for s in catalogue().values()}
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = str(tiny_checkpoint(Path(tmp) / "tiny")) if any(c[0] == "diffusion" for c in cases) else ""
        print(
            f"CPU: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
            f"{'GPU: ' + gpu() if gpu() else 'no GPU'}"
        )
        print(f"{'engine':<10} {'style':<26} {'768² ms':>9} {'RSS MB':>7} {'2000×1500 ms':>13} {'RSS MB':>7}")
        for engine, style_id in cases:
            row = []
            for w, h in SIZES:
                case = json.dumps([engine, style_id, w, h, ckpt])
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--case",
                        case,
                        "--repeat",
                        str(args.repeat),
                        "--threads",
                        str(args.threads),
                    ],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                    check=False,
                )
                if out.returncode:
                    row.append(("error", out.stderr.strip().splitlines()[-1][:40]))
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                row.append((f"{r['ms']:.0f}", f"{r['rss_mb']:.0f}"))
            label = f"{style_id} {names.get(style_id, '')}".strip()[:26]
            print(f"{engine:<10} {label:<26} {row[0][0]:>9} {row[0][1]:>7} {row[1][0]:>13} {row[1][1]:>7}")


if __name__ == "__main__":
    main()
