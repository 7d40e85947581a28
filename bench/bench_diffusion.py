"""Diffusion engine: ms per image, images/s with micro-batching, peak memory, at 512² and 768² for
1, 2, 4 steps and the preset's default — through the engine's real path (presets, LoRA, batcher).

With no ``--models`` it runs the tiny random pipeline of the tests (plus a tiny LoRA): the figures measure
restyle's code path on this machine, not a real checkpoint. On a GPU, with a registry:

    .venv/bin/python bench/bench_engines.py --device cuda --models models.toml --base sd-turbo
    .venv/bin/python bench/bench_diffusion.py --device cpu            # tiny models, CPU

Steps are denoising steps (strength 1.0, so diffusers runs all of them). "batch 4" is four concurrent
requests of one preset painted as one batch, against the same four one by one, in the same run; every
call runs in a worker thread, as in the server.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = (512, 768)
STEPS = (1, 2, 4)


def photo(side: int) -> Any:
    import numpy as np
    from PIL import Image
    from skimage import data

    return np.asarray(Image.fromarray(data.astronaut()).resize((side, side), Image.Resampling.LANCZOS))


def tiny_registry(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.engines import tiny_diffusion as tiny

    from restyle.engines.diffusion import registry as reg

    base = tiny.build_tiny_pipeline(folder / "tiny-sd", vae_blocks=4)  # 8× latents, as real SD
    lora = tiny.build_tiny_lora(base, folder / "lora", seed=1)
    models = reg.Registry(file=folder / "models.toml")
    models.add(reg.Model(kind="base", name="tiny", path=base))
    models.add(reg.Model(kind="lora", name="lora", path=lora))
    models.save()
    return folder / "models.toml"


def in_thread(fn: Any, *args: Any) -> None:
    """Run ``fn`` in a worker thread, where the server runs engines. On a loaded machine torch's OpenMP
    threads are far slower when driven from the process's main thread (spinning barriers; measured 6 s
    against 0.5 s for the same convolutions), which would flatter the batched calls run in threads."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn(*args)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if errors:
        raise errors[0]


def peak_memory(device: str) -> str:
    if device.startswith("cuda"):
        import torch

        return f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MB VRAM"
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB RSS"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    ap.add_argument("--models", type=Path, help="model registry (default: tiny random models)")
    ap.add_argument("--base", default="tiny", help="base model name in the registry")
    ap.add_argument("--lora", default="", help="a LoRA name in the registry (default: the tiny one)")
    ap.add_argument("--default-steps", type=int, default=20, help="the preset's default steps")
    ap.add_argument("--dtype", default="auto", help="auto | float32 | float16 | bfloat16")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    args = ap.parse_args()

    from restyle.engines import StyleRequest
    from restyle.engines import diffusion as dif
    from restyle.engines.diffusion import registry as reg
    from restyle.engines.diffusion.pipelines import GpuOptions
    from restyle.styles import Style

    with tempfile.TemporaryDirectory() as tmp:
        registry = args.models or tiny_registry(Path(tmp))
        lora = args.lora or ("lora" if args.models is None else "")
        models = reg.load(registry)
        options = GpuOptions(device=args.device, dtype=args.dtype, threads=args.threads)

        def engine(batch: int) -> dif.Engine:
            return dif.Engine(models=models, options=options, batch_size=batch, batch_wait_s=0.05)

        single, batched = engine(1), engine(args.batch)
        batched.cache = single.cache  # one resident pipeline for both
        device = single.resolve_device()
        import torch

        print(
            f"diffusion bench: base {args.base}{' + lora ' + lora if lora else ''}, device {device} "
            f"({torch.cuda.get_device_name(0) if device.startswith('cuda') else f'{torch.get_num_threads()} threads'}), "
            f"dtype {options.torch_dtype(device)}"
        )
        print(
            f"{'size':>5} {'steps':>5} {'ms/image':>9} {'img/s 1-by-1':>13} {f'img/s batch {args.batch}':>14} "
            f"{'speed-up':>8} {'peak':>16}"
        )
        for side in SIZES:
            img = photo(side)
            for steps in (*STEPS, args.default_steps):
                params: dict[str, Any] = {"base": args.base, "steps": steps, "max_side": side}
                if lora:
                    params["loras"] = {lora: 1.0}
                style = Style(
                    "990", "b", "b", "diffusion", "img2img", 1.0, True, "slow", params, "{prompt}, oil"
                )

                def paint(eng: dif.Engine, seed: int, img: Any = img, style: Style = style) -> None:
                    eng.stylize(img, StyleRequest(style=style, strength=1.0, prompt="a cat", seed=seed))

                def call(eng: dif.Engine, seed: int) -> None:
                    in_thread(paint, eng, seed)

                if device.startswith("cuda"):
                    torch.cuda.reset_peak_memory_stats()
                call(single, 0)  # warm-up (and load)
                times = []
                for i in range(args.repeat):
                    t0 = time.perf_counter()
                    call(single, i)
                    times.append(time.perf_counter() - t0)
                ms = statistics.median(times) * 1000
                t0 = time.perf_counter()
                for i in range(args.batch):
                    call(single, i)
                one_by_one = args.batch / (time.perf_counter() - t0)
                threads = [threading.Thread(target=paint, args=(batched, i)) for i in range(args.batch)]
                t0 = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                together = args.batch / (time.perf_counter() - t0)
                label = f"{steps}" if steps != args.default_steps else f"{steps}*"
                print(
                    f"{side:>5} {label:>5} {ms:>9.0f} {one_by_one:>13.2f} {together:>14.2f} "
                    f"{together / one_by_one:>7.2f}× {peak_memory(device):>16}"
                )
        print(f"* the preset's default steps; batch sizes run: {sorted(set(batched.batcher.sizes))}")


if __name__ == "__main__":
    main()
