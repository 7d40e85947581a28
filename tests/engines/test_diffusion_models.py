"""Models people really have, on tiny random models built here (no downloads): a single-file checkpoint,
LoRA adapters swapped per style on one loaded base, a ControlNet fed Canny or line drawings of the input,
resident-model LRU, micro-batching with per-request seeds, progress, GPU options exercised on the CPU, and
the model registry with ``restyle models add/list/check``. The SDK test runs it all behind the wire.
"""

from __future__ import annotations

import base64
import io
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restyle.engines import StyleRequest
from restyle.engines import diffusion as diffusion_engine
from restyle.styles import Style
from tests.conftest import b64, encode, photo

# building the tiny models and loading them takes ~20 s alone, minutes on a shared, loaded machine
pytestmark = [pytest.mark.restyle_only, pytest.mark.timeout(900)]
if diffusion_engine.missing_packages():
    pytest.skip("restyle[diffusion] is not installed", allow_module_level=True)

from restyle.engines.diffusion import control  # noqa: E402
from restyle.engines.diffusion import registry as reg  # noqa: E402
from restyle.engines.diffusion.pipelines import GpuOptions  # noqa: E402
from tests.conftest import cli  # noqa: E402
from tests.engines import tiny_diffusion as tiny  # noqa: E402
from tests.engines.tiny_diffusion import patient  # noqa: E402


@dataclass(frozen=True)
class Kit:
    root: Path
    folder: Path  # diffusers folder
    single: Path  # the same weights as one original-layout .safetensors
    config: Path  # config folder for the single file
    lora_a: Path
    lora_b: Path
    controlnet: Path
    ip_adapter: Path  # weights file; image_encoder/ next to it
    references: tuple[Path, Path]  # two style images
    registry: Path


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    root = tmp_path_factory.mktemp("models")
    folder = tiny.build_tiny_pipeline(root / "tiny-sd")
    single = tiny.save_single_file(folder, root / "tiny-sd.safetensors")
    config = tiny.config_folder(folder, root / "tiny-sd-config")
    lora_a = tiny.build_tiny_lora(folder, root / "lora-a", seed=1)
    lora_b = tiny.build_tiny_lora(folder, root / "lora-b", seed=7)
    cn = tiny.build_tiny_controlnet(folder, root / "cn-canny")
    ipa = tiny.build_tiny_ip_adapter(folder, root / "ip-adapter")
    refs = (root / "ref-coffee.png", root / "ref-chelsea.jpg")
    Image.fromarray(photo("coffee", (48, 64))).save(refs[0])
    Image.fromarray(photo("chelsea", (64, 48))).save(refs[1])
    registry = root / "models.toml"
    models = reg.Registry(file=registry)
    for kind, name, path, extra in (
        ("base", "tiny", single, {"config": str(config), "licence": "test, random weights"}),
        ("base", "tiny-folder", folder, {}),
        ("lora", "ink", lora_a, {"licence": "CC0"}),
        ("lora", "pastel", lora_b, {}),
        ("controlnet", "canny", cn, {}),
        ("ip_adapter", "look", ipa, {"licence": "Apache-2.0"}),
    ):
        model = reg.parse_row(kind, name, {"path": str(path), **extra}, root)  # type: ignore[arg-type]
        models.add(reg.Model(**{**model.__dict__, "sha256": reg.sha256(model.path)}))
    models.save()
    return Kit(root, folder, single, config, lora_a, lora_b, cn, ipa, refs, registry)


def style(sid: str, **params: object) -> Style:
    return Style(
        id=sid,
        zh=sid,
        en=sid,
        engine="diffusion",
        recipe="img2img",
        strength=0.6,
        prompt=True,
        latency="slow",
        params={"max_side": 64, "steps": 4, **params},
        template="{prompt}, painting",
    )


def make_engine(kit: Kit, **kw: object) -> diffusion_engine.Engine:
    args: dict[str, object] = {"models": reg.load(kit.registry), "options": GpuOptions(device="cpu"), **kw}
    return diffusion_engine.Engine(steps=4, **args)  # type: ignore[arg-type]


def paint(engine: diffusion_engine.Engine, st: Style, img: np.ndarray, **kw: object) -> np.ndarray:
    args: dict[str, object] = {"style": st, "strength": 0.6, "prompt": "a cat", "seed": 1, **kw}
    return engine.stylize(img, StyleRequest(**args))  # type: ignore[arg-type]


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


IMG = photo("astronaut", (64, 64))


@pytest.fixture(scope="module")
def engine(kit: Kit) -> diffusion_engine.Engine:
    return make_engine(kit)


def test_single_file_loads_offline_and_equals_the_folder(kit: Kit, engine: diffusion_engine.Engine) -> None:
    from_file = paint(engine, style("1", base="tiny"), IMG)
    from_folder = paint(engine, style("2", base="tiny-folder"), IMG)
    assert from_file.shape == IMG.shape and from_file.dtype == np.uint8
    assert np.array_equal(from_file, from_folder)  # same weights, converted from the original layout
    assert engine.cache.loads["base:tiny"] == 1


def test_lora_changes_the_output_and_swaps_without_reloading(engine: diffusion_engine.Engine) -> None:
    plain, ink, pastel = (
        style("10", base="tiny"),
        style("11", base="tiny", loras={"ink": 1.0}),
        style("12", base="tiny", loras={"pastel": 1.0}),
    )
    a = paint(engine, plain, IMG)
    b = paint(engine, ink, IMG)
    c = paint(engine, pastel, IMG)
    half = paint(engine, style("13", base="tiny", loras={"ink": 0.3}), IMG)
    both = paint(engine, style("14", base="tiny", loras={"ink": 1.0, "pastel": 1.0}), IMG)
    assert diff(a, b) > 1.0 and diff(a, c) > 1.0 and diff(b, c) > 1.0, (diff(a, b), diff(a, c), diff(b, c))
    assert 0 < diff(a, half) < diff(a, b)  # the weight scales the adapter
    assert diff(both, b) > 0.5 and diff(both, c) > 0.5
    # back and forth: each style paints what it painted first; the base was loaded once
    assert np.array_equal(paint(engine, plain, IMG), a)
    assert np.array_equal(paint(engine, ink, IMG), b)
    assert np.array_equal(paint(engine, pastel, IMG), c)
    assert engine.cache.loads["base:tiny"] == 1
    assert engine.cache.loads["lora:ink"] == 1 and engine.cache.loads["lora:pastel"] == 1


def test_controlnet_uses_the_conditioning_image(engine: diffusion_engine.Engine) -> None:
    plain = paint(engine, style("20", base="tiny"), IMG)
    canny = paint(engine, style("21", base="tiny", controlnet="canny", control="canny"), IMG)
    lines = paint(engine, style("22", base="tiny", controlnet="canny", control="lines"), IMG)
    off = paint(engine, style("23", base="tiny", controlnet="canny", control_scale=0.0), IMG)
    assert diff(plain, canny) > 0.5 and diff(canny, lines) > 0.2, (diff(plain, canny), diff(canny, lines))
    # scale 0: the ControlNet adds nothing, the picture is plain img2img (same components, shared)
    assert diff(off, plain) < 0.5
    assert engine.cache.loads["base:tiny"] == 1 and engine.cache.loads["controlnet:canny"] == 1
    # with a LoRA too: ControlNet pipelines share the base's UNet, adapters included
    both = paint(engine, style("24", base="tiny", controlnet="canny", loras={"ink": 1.0}), IMG)
    assert diff(both, canny) > 0.5


def test_ip_adapter_paints_the_look_of_the_reference_image(kit: Kit, engine: diffusion_engine.Engine) -> None:
    """diffusers' load_ip_adapter reads the registered weights and image encoder; the reference image steers
    the picture; styles without it on the same base paint exactly as before; the adapter loads once."""
    ref_a, ref_b = (str(r) for r in kit.references)
    plain_style = style("80", base="tiny")
    plain = paint(engine, plain_style, IMG)
    a = paint(engine, style("81", base="tiny", ip_adapter="look", reference=ref_a, ip_scale=1.0), IMG)
    b = paint(engine, style("82", base="tiny", ip_adapter="look", reference=ref_b, ip_scale=1.0), IMG)
    weak = paint(engine, style("83", base="tiny", ip_adapter="look", reference=ref_b, ip_scale=0.3), IMG)
    off = paint(engine, style("84", base="tiny", ip_adapter="look", reference=ref_b, ip_scale=0.0), IMG)
    assert diff(plain, a) > 2 and diff(a, b) > 1, (diff(plain, a), diff(a, b))
    assert 0 < diff(plain, weak) < diff(plain, b)  # the scale scales the reference's pull
    assert np.array_equal(off, plain)  # scale 0: the adapter adds nothing
    assert np.array_equal(paint(engine, plain_style, IMG), plain)  # a plain style on the same base: unchanged
    assert np.array_equal(
        paint(engine, style("85", base="tiny", ip_adapter="look", reference=ref_a, ip_scale=1.0), IMG), a
    )
    # without classifier-free guidance (turbo presets), and with a LoRA and a ControlNet on top
    turbo = paint(engine, style("86", base="tiny", ip_adapter="look", reference=ref_a, guidance=0.0), IMG)
    assert (
        turbo.shape == IMG.shape
        and diff(turbo, paint(engine, style("87", base="tiny", guidance=0.0), IMG)) > 1
    )
    combo = style(
        "88", base="tiny", ip_adapter="look", reference=ref_a, loras={"ink": 1.0}, controlnet="canny"
    )
    assert diff(paint(engine, combo, IMG), a) > 0.5
    assert engine.cache.loads["ip_adapter:look"] == 1 and engine.cache.loads["base:tiny"] == 1
    resident = engine.cache.base("tiny")
    assert set(resident.ip_embeds) == {ref_a, ref_b}  # each reference encoded once, then reused


def test_ip_adapter_batched_equals_one_by_one(kit: Kit, engine: diffusion_engine.Engine) -> None:
    st = style("89", base="tiny", ip_adapter="look", reference=str(kit.references[1]))
    jobs = [(photo("astronaut", (64, 64)), "a cat", 1), (photo("coffee", (64, 64)), "a dog", 2)]
    alone = [paint(engine, st, img, prompt=p, seed=s) for img, p, s in jobs]
    batched = make_engine(kit, batch_size=2, batch_wait_s=10.0)
    out = batched.stylize_many(
        [img for img, _, _ in jobs],
        [StyleRequest(style=st, strength=0.6, prompt=p, seed=s) for _, p, s in jobs],
    )
    assert batched.batch_sizes == [2]
    for i in range(2):
        assert isinstance(out[i], np.ndarray)
        assert np.abs(out[i].astype(int) - alone[i]).max() <= 1, i


def test_ip_adapter_registry_and_startup_checks(kit: Kit, tmp_path: Path) -> None:
    import shutil

    # an image encoder kept elsewhere (one encoder serves several adapters): --image-encoder
    weights = tmp_path / "adapters" / "look.safetensors"
    weights.parent.mkdir()
    shutil.copyfile(kit.ip_adapter, weights)
    encoder = shutil.copytree(kit.ip_adapter.parent / "image_encoder", tmp_path / "shared" / "vit")
    registry = tmp_path / "models.toml"
    for args in (
        ("base", "tiny", str(kit.folder)),
        ("ip_adapter", "look", str(weights), "--image-encoder", str(encoder), "--licence", "Apache-2.0"),
    ):
        done = cli("models", "add", *args, "--registry", str(registry))
        assert done.returncode == 0, done.stderr
    models = reg.load(registry)
    look = models.get("ip_adapter", "look")
    assert look.encoder_folder() == encoder and reg.check(look).ok, reg.check(look).detail
    assert "image_encoder" in registry.read_text()
    listing = cli("models", "list", "--registry", str(registry))
    assert listing.returncode == 0 and "ip_adapter" in listing.stdout and "encoder" in listing.stdout
    eng = diffusion_engine.Engine(models=models, options=GpuOptions(device="cpu"), steps=4)
    st = style("90", base="tiny", ip_adapter="look", reference=str(kit.references[0]), ip_scale=1.0)
    eng.check_style(st)
    out = paint(eng, st, IMG)
    plain = paint(eng, style("91", base="tiny"), IMG)
    assert diff(out, plain) > 2
    assert eng.cache.loads["ip_adapter:look"] == 1
    # a reference gone after startup: that call fails, and the base paints its other styles as before
    broken = diffusion_engine.Engine(models=models, options=GpuOptions(device="cpu"), steps=4)
    with pytest.raises(FileNotFoundError):
        paint(broken, style("96", base="tiny", ip_adapter="look", reference=str(tmp_path / "gone.png")), IMG)
    assert np.array_equal(paint(broken, style("91", base="tiny"), IMG), plain)
    # an adapter folder without its encoder, a missing reference, a reference without an adapter
    lonely = reg.Model(kind="ip_adapter", name="x", path=weights)
    assert (
        not reg.check(lonely, hashes=False).ok and "image encoder" in reg.check(lonely, hashes=False).detail
    )
    with pytest.raises(ValueError, match="reference image"):
        eng.check_style(style("92", base="tiny", ip_adapter="look", reference=str(tmp_path / "nope.png")))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    with pytest.raises(ValueError, match="cannot be read"):
        eng.check_style(style("93", base="tiny", ip_adapter="look", reference=str(bad)))
    with pytest.raises(ValueError, match="go together"):
        eng.check_style(style("94", base="tiny", ip_adapter="look"))
    with pytest.raises(ValueError, match="no ip_adapter model named 'gone'"):
        eng.check_style(style("95", base="tiny", ip_adapter="gone", reference=str(kit.references[0])))


def test_conditioning_images() -> None:
    img = photo("astronaut", (160, 128))
    edges, drawing = control.canny(img), control.lines(img)
    for cond in (edges, drawing):
        assert cond.shape == img.shape and cond.dtype == np.uint8
        assert set(np.unique(cond)) <= {0, 255}
        assert 0.01 < (cond > 0).mean() < 0.4
    flat = np.full((64, 64, 3), 120, np.uint8)
    assert control.canny(flat).max() == 0 and control.lines(flat).max() == 0
    # the lines follow the picture's edges: most line pixels lie near a Canny edge
    import cv2

    near = cv2.dilate(edges[:, :, 0], np.ones((7, 7), np.uint8)) > 0
    assert (near & (drawing[:, :, 0] > 0)).sum() / max(1, (drawing[:, :, 0] > 0).sum()) > 0.6


def test_lru_keeps_a_bounded_number_of_bases(kit: Kit) -> None:
    eng = make_engine(kit, resident_models=1)
    a, b = style("30", base="tiny"), style("31", base="tiny-folder")
    first = paint(eng, a, IMG)
    paint(eng, b, IMG)
    assert eng.cache.resident() == ["tiny-folder"]
    assert np.array_equal(paint(eng, a, IMG), first)
    assert eng.cache.resident() == ["tiny"]
    assert eng.cache.loads["base:tiny"] == 2 and eng.cache.loads["base:tiny-folder"] == 1


def test_batched_requests_equal_one_by_one_with_their_own_seeds(
    kit: Kit, engine: diffusion_engine.Engine
) -> None:
    st = style("40", base="tiny", loras={"ink": 0.8})
    jobs = [
        (photo("astronaut", (64, 64)), "a cat", 1),
        (photo("coffee", (64, 64)), "a dog", 2),
        (photo("chelsea", (64, 64)), "a cat", 3),
    ]
    alone = [paint(engine, st, img, prompt=p, seed=s) for img, p, s in jobs]
    batched = make_engine(kit, batch_size=3, batch_wait_s=10.0)  # runs as soon as all three are in
    paint(batched, st, IMG)  # load the base first, so the three calls arrive within the wait
    out: dict[int, np.ndarray] = {}
    progress: dict[int, list[tuple[int, int]]] = {}

    def call(i: int) -> None:
        img, p, s = jobs[i]
        progress[i] = []
        out[i] = paint(
            batched, st, img, prompt=p, seed=s, progress=lambda d, t, i=i: progress[i].append((d, t))
        )

    threads = [threading.Thread(target=call, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert batched.batcher.sizes[-1] == 3, batched.batcher.sizes
    for i in range(3):
        assert out[i].shape == jobs[i][0].shape
        assert not np.array_equal(out[i], jobs[i][0])
        assert np.abs(out[i].astype(int) - alone[i]).max() <= 1, i  # batched == one by one
        assert progress[i] == [(1, 2), (2, 2)], progress[i]  # 4 steps × 0.6: 2 denoising steps
    assert diff(out[0], out[2]) > 1  # different seeds and pictures stay different in one batch


def test_gpu_options_run_on_the_cpu(kit: Kit, engine: diffusion_engine.Engine) -> None:
    st = style("50", base="tiny")
    ref = paint(engine, st, IMG)
    tuned = make_engine(
        kit, options=GpuOptions(device="cpu", attention="eager", channels_last=True, cpu_offload="model")
    )
    assert diff(paint(tuned, st, IMG), ref) < 1.0  # the same maths, another memory layout
    # VAE tiling: the tiny VAE's tiles are 32 px, so a 64 px picture is decoded in blended tiles
    tiled = paint(make_engine(kit, options=GpuOptions(device="cpu", vae_tiling=True)), st, IMG)
    assert tiled.shape == IMG.shape and 0 < diff(tiled, ref) < 20
    bf16 = make_engine(kit, options=GpuOptions(device="cpu", dtype="bfloat16"))
    low = paint(bf16, st, IMG)
    assert low.shape == IMG.shape and diff(low, ref) < 20


def test_warm_up_and_startup_checks(kit: Kit) -> None:
    eng = make_engine(kit, warmup=True)
    eng.check_style(style("60", base="tiny", loras={"ink": 1.0}, controlnet="canny"))
    assert eng.cache.loads["base:tiny"] == 1 and eng.cache.loads["controlnet:canny"] == 1
    with pytest.raises(ValueError, match="no lora model named 'nope'"):
        eng.check_style(style("61", base="tiny", loras={"nope": 1.0}))
    with pytest.raises(ValueError, match="no base model named 'gone'"):
        eng.check_style(style("62", base="gone"))
    with pytest.raises(ValueError, match="scheduler"):
        eng.check_style(style("63", base="tiny", scheduler="warp"))


def test_schedulers(engine: diffusion_engine.Engine) -> None:
    outs = {
        s: paint(engine, style(f"7{i}", base="tiny", scheduler=s), IMG)
        for i, s in enumerate(("ddim", "euler_a", "dpm++"))
    }
    assert diff(outs["ddim"], outs["euler_a"]) > 0.2
    assert np.array_equal(paint(engine, style("79", base="tiny", scheduler="euler_a"), IMG), outs["euler_a"])


def test_registry_file_and_hashes(kit: Kit, tmp_path: Path) -> None:
    models = reg.load(kit.registry)
    assert {m.name for m in models} == {"tiny", "tiny-folder", "ink", "pastel", "canny", "look"}
    assert all(reg.check(m).ok for m in models), [reg.check(m).detail for m in models]
    assert models.get("base", "tiny").config_folder() == kit.config
    # a changed byte is caught
    copy = tmp_path / "lora.safetensors"
    copy.write_bytes(kit.lora_a.read_bytes()[:-1] + b"\0")
    bad = reg.Model(kind="lora", name="x", path=copy, sha256=models.get("lora", "ink").sha256)
    assert not reg.check(bad).ok and "mismatch" in reg.check(bad).detail
    # a single file with no config (nor arch) is refused: it would need a hub
    lonely = reg.Model(kind="base", name="y", path=kit.single, sha256=reg.sha256(kit.single))
    assert not reg.check(lonely).ok and "hub" in reg.check(lonely).detail
    with pytest.raises(ValueError, match="arch"):
        reg.parse_row("base", "z", {"path": "x.safetensors", "arch": "sd9"}, tmp_path)
    assert reg.guess_arch(kit.single) == "sd15"  # a CLIP-L text encoder in the original layout
    for arch in reg.ARCHES:
        folder = reg.shipped_config(arch)
        assert (folder / "model_index.json").is_file(), folder


def test_models_cli(kit: Kit, tmp_path: Path) -> None:
    registry = tmp_path / "models.toml"
    add = cli(
        "models",
        "add",
        "base",
        "mine",
        str(kit.single),
        "--model-config",
        str(kit.config),
        "--licence",
        "test",
        "--registry",
        str(registry),
    )
    assert add.returncode == 0, add.stderr
    assert reg.file_sha256(kit.single) in add.stdout
    assert cli("models", "add", "lora", "ink", str(kit.lora_a), "--registry", str(registry)).returncode == 0
    missing = cli(
        "models", "add", "lora", "gone", str(tmp_path / "nope.safetensors"), "--registry", str(registry)
    )
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    cfg = tmp_path / "restyle.toml"
    cfg.write_text(
        f'diffusion_models = "{registry}"\n'
        '[diffusion_styles.133]\nbase = "mine"\nloras = { ink = 0.7 }\n'
        '[diffusion_styles.990]\nbase = "mine"\ncontrolnet = "canny"\n'
    )
    listing = cli("models", "list", "--config", str(cfg))
    assert listing.returncode == 0, listing.stderr
    assert "mine" in listing.stdout and "lora ink×0.7" in listing.stdout
    check = cli("models", "check", "--config", str(cfg))
    assert check.returncode == 1 and "no controlnet model named 'canny'" in check.stdout, check.stdout
    (tmp_path / "restyle.toml").write_text(
        f'diffusion_models = "{registry}"\n[diffusion_styles.133]\nbase = "mine"\n'
    )
    assert cli("models", "check", "--config", str(cfg)).returncode == 0
    kit_single_copy = tmp_path / "changed.safetensors"
    kit_single_copy.write_bytes(kit.single.read_bytes())
    assert (
        cli(
            "models",
            "add",
            "base",
            "changed",
            str(kit_single_copy),
            "--model-config",
            str(kit.config),
            "--registry",
            str(registry),
        ).returncode
        == 0
    )
    with open(kit_single_copy, "r+b") as fh:
        fh.seek(-4, 2)
        fh.write(b"\1\2\3\4")
    check = cli("models", "check", "--registry", str(registry), "--config", str(cfg))
    assert check.returncode == 1 and "sha256 mismatch" in check.stdout


def test_sdk_end_to_end(kit: Kit, tmp_path: Path, make_server: object) -> None:
    """Tencent ids mapped to presets: a single-file base, LoRAs swapped per style, a ControlNet."""
    from tests.wire import sdk

    cfg = tmp_path / "restyle.toml"
    cfg.write_text(
        f'diffusion_models = "{kit.registry}"\n'
        'diffusion_device = "cpu"\n'
        "job_timeout_s = 300\n"
        "diffusion_resident_models = 1\n"
        '[diffusion_styles.133]\nbase = "tiny"\nsteps = 3\ntemplate = "{prompt}, impressionist garden"\n'
        "loras = { ink = 1.0 }\n"
        '[diffusion_styles.134]\nbase = "tiny"\nsteps = 3\nloras = { pastel = 1.0 }\n'
        '[diffusion_styles.990]\nbase = "tiny"\nsteps = 3\ncontrolnet = "canny"\ncontrol = "lines"\n'
        'zh = "线稿油画"\nen = "Line-kept oil"\n'
        f'[diffusion_styles.991]\nbase = "tiny"\nsteps = 3\nip_adapter = "look"\nreference = "{kit.references[0]}"\n'
        "ip_adapter_scale = 1.0\n"
    )
    srv = make_server(config=str(cfg), wait_s=180)  # type: ignore[operator]  # slow imports on a loaded host
    cli_ = sdk.client(sdk.Target(srv, srv.secret_id, srv.secret_key))
    patient(cli_)
    src = b64(encode(photo("chelsea", (72, 64)), "PNG"))
    base = {"InputImage": src, "LogoAdd": 0, "Prompt": "a cat", "Strength": 0.7}

    def image(**kw: object) -> np.ndarray:
        resp = sdk.call(cli_, {**base, **kw})
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(resp.ResultImage))).convert("RGB"))

    a, b, c = image(Styles=["133"]), image(Styles=["134"]), image(Styles=["990"])
    d = image(Styles=["991"])
    assert a.shape == b.shape == c.shape == d.shape == (64, 72, 3)
    assert diff(a, b) > 1 and diff(a, c) > 1 and diff(a, d) > 1 and diff(c, d) > 1
    assert np.array_equal(image(Styles=["133"]), a)
    log = srv.log()
    assert log.count("diffusion base tiny loaded") == 1, log[-3000:]  # one base for three styles
    assert re.search(r"diffusion style 990: .*controlnet canny \(lines, scale 1\)", log), log[-3000:]
    assert re.search(r"diffusion style 133: .*lora ink×1", log), log[-3000:]
    assert re.search(r"diffusion style 991: .*ip_adapter look \(ref-coffee.png, scale 1\)", log), log[-3000:]


# known sizes of the real networks: the shipped configs describe them exactly
PARAMS = {
    "sd15": (859_520_964, 123_060_480, 0),
    "sd21": (865_910_724, 340_387_840, 0),
    "sd21-v": (865_910_724, 340_387_840, 0),
    "sd-turbo": (865_910_724, 340_387_840, 0),
    "sdxl": (2_567_463_684, 123_060_480, 694_659_840),
    "sdxl-turbo": (2_567_463_684, 123_060_480, 694_659_840),
}


@pytest.mark.parametrize("arch", reg.ARCHES)
def test_shipped_configs_describe_the_real_networks(
    arch: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    monkeypatch.setenv("RESTYLE_CACHE_DIR", str(tmp_path))
    folder = reg.shipped_config(arch)
    assert folder.is_relative_to(tmp_path) and reg.shipped_config(arch) == folder  # made once
    tok = CLIPTokenizer.from_pretrained(str(folder), subfolder="tokenizer", local_files_only=True)
    assert tok("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert len(tok) == 49408

    def count(m: object) -> int:
        return sum(p.numel() for p in m.parameters())  # type: ignore[attr-defined]

    with init_empty_weights():
        unet = UNet2DConditionModel.from_config(
            UNet2DConditionModel.load_config(str(folder), subfolder="unet")
        )
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(str(folder), subfolder="vae"))
        text = CLIPTextModel(CLIPTextConfig.from_pretrained(str(folder), subfolder="text_encoder"))
        text2 = 0
        if (folder / "text_encoder_2").is_dir():
            cfg2 = CLIPTextConfig.from_pretrained(str(folder), subfolder="text_encoder_2")
            text2 = count(CLIPTextModelWithProjection(cfg2))
    assert (count(unet), count(text), text2) == PARAMS[arch]
    assert count(vae) == 83_653_863


def test_shipped_example_maps_tencent_ids_to_presets() -> None:
    import tomllib
    from importlib import resources

    from restyle.config import Settings
    from restyle.engines.diffusion import Preset, configure_catalogue
    from restyle.styles import catalogue

    text = resources.files("restyle.engines.diffusion").joinpath("example.toml").read_text("utf-8")
    settings = Settings(**tomllib.loads(text))
    cat = configure_catalogue(catalogue(), settings)
    presets = {sid: Preset.from_style(cat[sid], default_steps=20) for sid in ("201", "104", "133", "134")}
    assert all(cat[sid].engine == "diffusion" for sid in presets)
    assert presets["201"].loras == (("anime", 0.8),) and presets["201"].control == "lines"
    assert presets["133"].controlnet == "canny" and presets["134"].base == "sdxl-turbo"
    assert cat["201"].zh == catalogue()["201"].zh  # the Tencent names stay


def test_reference_styles_in_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """reference is made absolute when the settings load (Ray replicas rebuild them elsewhere); an IP-Adapter
    without a reference is refused at startup."""
    from restyle.config import Settings
    from restyle.engines.diffusion import Preset, configure_catalogue
    from restyle.styles import catalogue

    monkeypatch.chdir(tmp_path)
    settings = Settings(
        diffusion_styles={
            "212": {
                "base": "sd15",
                "ip_adapter": "look",
                "reference": "styles/ref.png",
                "ip_adapter_scale": 0.8,
            }
        }
    )
    assert settings.diffusion_styles["212"].reference == tmp_path / "styles" / "ref.png"
    again = Settings(**settings.model_dump(mode="python"))  # as a replica rebuilds them, anywhere
    assert again.diffusion_styles["212"].reference == tmp_path / "styles" / "ref.png"
    preset = Preset.from_style(configure_catalogue(catalogue(), settings)["212"], default_steps=4)
    assert (preset.ip_adapter, preset.reference, preset.ip_scale) == (
        "look",
        str(tmp_path / "styles/ref.png"),
        0.8,
    )
    assert "ip_adapter look (ref.png, scale 0.8)" in preset.describe()
    lonely = Settings(diffusion_styles={"212": {"base": "sd15", "ip_adapter": "look"}})
    with pytest.raises(ValueError, match="needs reference"):
        configure_catalogue(catalogue(), lonely)
