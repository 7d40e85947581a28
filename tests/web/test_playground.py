"""The playground in a real browser: a signed call from the page, its errors, snippets and layout."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from restyle.api.signing import sign_tc3_headers
from tests.conftest import SECRET_ID, SECRET_KEY, Server
from tests.web.conftest import PHONE, PROXY_VARS, OpenPage

ROOT = Path(__file__).resolve().parents[2]
TCCLI = Path(os.environ.get("TCCLI", ROOT / ".venv-tccli" / "bin" / "tccli"))
GALLERY_LOADED = (
    "() => [...document.querySelectorAll('.gallery img')].every(i => i.complete && i.naturalWidth > 0)"
)
SCREENSHOT = os.environ.get("RESTYLE_PLAYGROUND_SCREENSHOT")  # e.g. docs/playground.png


def fill_key(page: Page, secret_id: str = SECRET_ID, secret_key: str = SECRET_KEY) -> None:
    page.get_by_label("SecretId", exact=True).fill(secret_id)
    page.get_by_label("SecretKey", exact=True).fill(secret_key)


def prepare(page: Page, photo_path: Path | None, style: str = "Watercolor", **key: str) -> None:
    """Key, photo (``None``: the bundled sample photo) and style filled in, ready to send."""
    fill_key(page, **key)
    if photo_path is None:
        page.get_by_role("button", name=re.compile("sample photo")).click()
        expect(page.locator("#before")).to_be_visible()
    else:
        page.get_by_label("Photo").set_input_files(photo_path)
    page.get_by_role("radio", name=style, exact=True).check()


def send(page: Page) -> str:
    """Press the button; wait until the call has finished; the outcome state ("ok" or "error")."""
    page.get_by_role("button", name="Sign & send").click()
    status = page.locator("#status")
    expect(status).to_have_attribute("data-state", re.compile("^(ok|error)$"), timeout=60_000)
    return status.get_attribute("data-state") or ""


def wait_until(page: Page, predicate: str, timeout_s: float = 30) -> None:
    """Poll a JS predicate (``page.wait_for_function`` evaluates strings, which the page's CSP forbids)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(predicate):
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        page.wait_for_timeout(50)


def natural_width(page: Page, selector: str) -> int:
    return int(page.eval_on_selector(selector, "img => img.complete ? img.naturalWidth : 0"))


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS and not k.startswith("TENCENTCLOUD_")}
    return {**env, "TENCENTCLOUD_SECRET_ID": SECRET_ID, "TENCENTCLOUD_SECRET_KEY": SECRET_KEY, **extra}


def run_snippet(command: list[str], cwd: Path, **env: str) -> str:
    """Run a copied snippet as a user would (key in TENCENTCLOUD_* env, no proxy); its stdout, once it passed."""
    out = subprocess.run(command, cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


# --- a successful call ----------------------------------------------------------------------------
def test_upload_sign_and_send_shows_before_and_after(desktop: Page, astronaut_png: Path) -> None:
    page = desktop
    prepare(page, astronaut_png, style="Watercolor")
    assert send(page) == "ok", page.locator("#error").inner_text()

    expect(page.locator("#before")).to_be_visible()
    expect(page.locator("#after")).to_be_visible()
    assert natural_width(page, "#before") == 320
    assert page.get_by_label("Resolution").input_value() == "origin"  # the API's default is the page's
    assert natural_width(page, "#after") == 320
    box_before = page.locator("#before").bounding_box()
    box_after = page.locator("#after").bounding_box()
    assert box_before and box_after
    assert box_after["x"] >= box_before["x"] + box_before["width"]  # side by side
    assert abs(box_after["y"] - box_before["y"]) < 2
    assert page.locator("#error").is_hidden()

    # what went over the wire: signed headers, the JSON with the base64 shortened, the server's timing
    headers = page.locator("#req-headers").inner_text()
    for name in ("Content-Type: application/json", "X-TC-Action: ImageToImage", "X-TC-Version: 2022-12-29"):
        assert name in headers
    assert re.search(
        rf"Authorization: TC3-HMAC-SHA256 Credential={SECRET_ID}/\d{{4}}-\d\d-\d\d/aiart/tc3_request", headers
    )
    assert "X-TC-Region: ap-singapore" in headers and "Host: 127.0.0.1:" in headers
    body = page.locator("#req-body").inner_text()
    assert '"Styles": [\n    "104"\n  ]' in body and re.search(r'"InputImage": ".{40}…\(\d+ chars\)"', body)
    assert page.locator("#request-id").inner_text().count("-") == 4  # a UUID
    steps = page.locator("#timing li .step").all_inner_texts()
    assert {"decode", "stylize", "encode"} <= set(steps)
    assert re.fullmatch(r"[\d.]+ ms · pipeline [\d.]+ ms", page.locator("#t-server").inner_text())
    assert "320×320 px" in page.locator("#result-size").inner_text()
    if SCREENSHOT:
        wait_until(page, GALLERY_LOADED)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=SCREENSHOT, full_page=False)


def test_sample_photo_and_url_result(desktop: Page) -> None:
    """The bundled sample photo as input, the result as a link served by restyle itself."""
    page = desktop
    prepare(page, None, "Sketch")
    page.get_by_label("Reply as").select_option("url")
    page.get_by_label("Resolution").select_option("origin")
    assert send(page) == "ok", page.locator("#error").inner_text()
    src = page.get_attribute("#after", "src") or ""
    assert re.match(r"http://127\.0\.0\.1:\d+/results/", src)
    assert natural_width(page, "#after") == 256


def test_async_mode_submits_then_polls_until_done(desktop: Page) -> None:
    """The async switch: SubmitImageToImageJob, QueryImageToImageJob until done, the result link shown."""
    page = desktop
    prepare(page, None, "Sketch")
    page.get_by_label(re.compile("^Async job")).check()
    assert send(page) == "ok", page.locator("#error").inner_text()
    assert "X-TC-Action: SubmitImageToImageJob" in page.locator("#req-headers").inner_text()
    last = page.locator("#rsp-body").inner_text()  # the last Query answer
    assert '"JobStatusCode": "5"' in last and '"Progress": 100' in last and '"EffectiveParameters"' in last
    src = page.get_attribute("#after", "src") or ""
    assert re.match(r"http://127\.0\.0\.1:\d+/job-results/", src)
    assert natural_width(page, "#after") == 256  # Resolution origin (the default): the 256-px sample photo
    expect(page.locator("#job-progress")).to_be_hidden()


# --- errors ---------------------------------------------------------------------------------------
def test_wrong_secret_key_shows_signature_failure(desktop: Page, astronaut_png: Path) -> None:
    prepare(desktop, astronaut_png, secret_key="not-the-" + SECRET_KEY)
    assert send(desktop) == "error"
    expect(desktop.locator("#error-code")).to_have_text("AuthFailure.SignatureFailure")
    expect(desktop.locator("#error-message")).not_to_be_empty()
    expect(desktop.locator("#status")).to_contain_text("AuthFailure.SignatureFailure")
    assert desktop.locator("#after").is_hidden()


def test_clock_ten_minutes_behind_shows_signature_expire(open_page: OpenPage, astronaut_png: Path) -> None:
    page = open_page(init_script="{ const now = Date.now; Date.now = () => now() - 10 * 60 * 1000; }")
    prepare(page, astronaut_png)
    assert send(page) == "error"
    expect(page.locator("#error-code")).to_have_text("AuthFailure.SignatureExpire")


def test_server_validation_errors_are_shown(desktop: Page) -> None:
    """No image at all: the server's own code and teaching message reach the page."""
    fill_key(desktop)
    assert send(desktop) == "error"
    expect(desktop.locator("#error-code")).to_have_text("InvalidParameterValue.ImageEmpty")


# --- snippets -------------------------------------------------------------------------------------
def test_python_snippet_runs_against_the_server(desktop: Page, astronaut_png: Path, tmp_path: Path) -> None:
    page = desktop
    prepare(page, astronaut_png, style="Japanese Anime")
    page.get_by_label("Strength").fill("0.6")
    assert send(page) == "ok"
    snippet = page.locator("#snippet-python").text_content() or ""
    assert SECRET_KEY not in snippet and SECRET_ID not in snippet
    assert 'IMAGE_PATH = "astronaut.png"' in snippet
    (tmp_path / "astronaut.png").write_bytes(astronaut_png.read_bytes())  # the snippet reads it by name
    (tmp_path / "snippet.py").write_text(snippet, "utf-8")
    assert "RequestId" in run_snippet([sys.executable, "snippet.py"], tmp_path)
    with Image.open(tmp_path / "result.jpg") as im:
        assert im.size == (320, 320)  # Resolution origin (the default) keeps the upload's size


def test_tccli_snippet_with_a_logo_runs_against_the_server(
    desktop: Page, astronaut_png: Path, tmp_path: Path
) -> None:
    """tccli reads params.json, which the snippet assembles with both images (photo and LogoImage) inlined."""
    if not TCCLI.exists():
        pytest.fail(f"tccli not found at {TCCLI}: run ./scripts/install --dev (or set TCCLI)")
    page = desktop
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (80, 24), (200, 30, 30, 180)).save(logo)
    prepare(page, astronaut_png, style="Clay")
    page.get_by_text("Your own logo").click()
    page.get_by_label("Logo image").set_input_files(logo)
    snippet = page.locator("#snippet-tccli").text_content() or ""
    assert "--cli-input-json file://params.json" in snippet and SECRET_KEY not in snippet
    assert "base64 -w0 'astronaut.png'" in snippet and "base64 -w0 'logo.png'" in snippet
    (tmp_path / "astronaut.png").write_bytes(astronaut_png.read_bytes())
    path = f"{TCCLI.parent}{os.pathsep}{os.environ['PATH']}"
    stdout = run_snippet(["bash", "-euo", "pipefail", "-c", snippet], tmp_path, HOME=str(tmp_path), PATH=path)
    params = json.loads((tmp_path / "params.json").read_text())
    assert params["LogoParam"]["LogoRect"] == {"X": 16, "Y": 16, "Width": 160, "Height": 48}
    reply = json.loads(stdout)
    with Image.open(io.BytesIO(base64.b64decode(reply["ResultImage"]))) as im:
        assert im.size == (320, 320)
        corner = np.asarray(im.convert("RGB"))[20:60, 20:170].reshape(-1, 3).mean(axis=0)
    assert corner[0] > corner[1] + 40  # the red logo sits in LogoRect

    # the page sends the same LogoParam
    assert send(page) == "ok", page.locator("#error").inner_text()
    assert '"LogoRect": {' in page.locator("#req-body").inner_text()


def test_curl_snippet_replays_the_signed_call(desktop: Page, astronaut_png: Path, tmp_path: Path) -> None:
    page = desktop
    prepare(page, astronaut_png, style="Cyberpunk")
    assert send(page) == "ok"
    page.get_by_role("tab", name="curl").click()
    expect(page.locator("#body-download")).to_be_visible()
    snippet = page.locator("#snippet-curl").text_content() or ""
    assert "--data-binary @request.json" in snippet and SECRET_KEY not in snippet
    with page.expect_download() as download:
        page.locator("#body-download").click()
    assert download.value.suggested_filename == "request.json"
    download.value.save_as(tmp_path / "request.json")
    assert (
        "ResultImage"
        in json.loads(run_snippet(["bash", "-euo", "pipefail", "-c", snippet], tmp_path))["Response"]
    )


# --- signing in the page --------------------------------------------------------------------------
def test_page_signs_exactly_like_the_python_signer(desktop: Page) -> None:
    body = json.dumps(
        {"InputUrl": "https://example.com/a.jpg", "Prompt": "女孩", "Styles": ["201"]}, ensure_ascii=False
    )
    ts = int(time.time())
    js = desktop.evaluate(
        """([body, ts, id, key]) => window.restylePlayground.signTc3(
               {secretId: id, secretKey: key, host: location.host, body, timestamp: ts, region: "ap-singapore"})""",
        [body, ts, SECRET_ID, SECRET_KEY],
    )
    host = desktop.evaluate("location.host")
    py = sign_tc3_headers(
        secret_id=SECRET_ID, secret_key=SECRET_KEY, host=host, body=body.encode(), timestamp=ts
    )
    assert js["headers"] == py


@pytest.mark.parametrize("size", [0, 3, 55, 56, 63, 64, 65, 119, 128, 100_003])
def test_fallback_sha256_and_hmac_match_hashlib(desktop: Page, size: int) -> None:
    """The pure-JS fallback (pages served over plain http to another host) matches hashlib."""
    text = ("restyle 风格 " * (size // 8 + 1))[:size]
    key = "TC3" + "k" * (size % 90)
    got = desktop.evaluate(
        "([t, k]) => [window.restylePlayground.sha256JsHex(t), window.restylePlayground.hmacJsHex(k, t)]",
        [text, key],
    )
    assert got[0] == hashlib.sha256(text.encode()).hexdigest()
    assert got[1] == hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def test_call_without_webcrypto_uses_the_fallback(open_page: OpenPage, astronaut_png: Path) -> None:
    page = open_page(init_script="Object.defineProperty(window, 'isSecureContext', { get: () => false });")
    assert page.evaluate("window.restylePlayground.hasWebCrypto()") is False
    expect(page.locator("#status")).to_contain_text("not a secure context")
    prepare(page, astronaut_png)
    assert send(page) == "ok", page.locator("#error").inner_text()


def test_secret_key_never_leaves_the_tab(desktop: Page, astronaut_png: Path) -> None:
    sent: list[str] = []
    desktop.on("request", lambda r: sent.append(f"{r.url}\n{r.headers}\n{r.post_data_buffer or b''!r}"))
    prepare(desktop, astronaut_png)
    assert send(desktop) == "ok"
    assert sent and not any(SECRET_KEY in s for s in sent)
    assert desktop.evaluate("sessionStorage.length") == 0  # only kept when "Remember" is ticked
    desktop.get_by_label("Remember in this tab").check()
    assert desktop.evaluate("sessionStorage.getItem('restyle.secretKey')") == SECRET_KEY
    desktop.reload()
    expect(desktop.get_by_label("SecretKey", exact=True)).to_have_value(SECRET_KEY)
    assert desktop.evaluate("localStorage.length") == 0 and desktop.context.cookies() == []


# --- accessibility and layout ---------------------------------------------------------------------
def test_style_picker_is_keyboard_usable(desktop: Page) -> None:
    page = desktop
    default = page.get_by_role("radio", name="Japanese Anime", exact=True)
    expect(default).to_be_checked()
    page.get_by_label("Region").focus()
    for _ in range(20):  # tab forward until the style group has focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "style":
            break
    assert page.evaluate("document.activeElement.value") == "201"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.value") == "104"
    expect(page.get_by_role("radio", name="Watercolor", exact=True)).to_be_checked()
    expect(page.locator("#snippet-python")).to_contain_text('"104"')
    outline = page.eval_on_selector(
        'input[name="style"]:checked', "el => getComputedStyle(el.nextElementSibling).outlineStyle"
    )
    assert outline == "solid"  # the focused card shows a focus ring


def test_controls_are_labelled_and_images_have_alt_text(desktop: Page, astronaut_png: Path) -> None:
    page = desktop
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
                 .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                               && !el.getAttribute('aria-labelledby'))
                 .map(el => el.id || el.name)"""
    )
    assert unlabeled == []
    wait_until(page, GALLERY_LOADED)
    alts = page.eval_on_selector_all(".gallery img", "imgs => imgs.map(i => i.alt)")
    served = page.evaluate("fetch('/v1/styles').then(r => r.json()).then(j => j.Styles.length)")
    assert len(alts) == served >= 21  # one preview per catalogue entry the server serves
    assert all(a.startswith("The sample photo in the ") for a in alts)
    prepare(page, astronaut_png)
    assert send(page) == "ok"
    for sel in ("#before", "#after"):
        assert page.get_attribute(sel, "alt")
    assert page.evaluate("document.documentElement.lang") == "en"


def test_text_contrast_meets_wcag_aa(desktop: Page) -> None:
    """Every text element's colour against its nearest opaque background: at least 4.5:1."""
    worst = desktop.evaluate(
        """() => {
          const rgb = s => s.match(/[\\d.]+/g).map(Number);
          const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                                       .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
          const bg = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
                               if (c.length < 4 || c[3] === 1) return c; } return [255, 255, 255]; };
          const out = [];
          for (const el of document.querySelectorAll('body *')) {
            if (!el.checkVisibility() || ![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
            const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(bg(el))];
            out.push([(Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), el.tagName + '.' + el.className]);
          }
          return out.sort((x, y) => x[0] - y[0]).slice(0, 3);
        }"""
    )
    assert worst[0][0] >= 4.5, worst


def test_phone_layout_has_no_horizontal_scroll(phone: Page, astronaut_png: Path) -> None:
    page = phone
    assert page.viewport_size == PHONE
    no_overflow = "document.scrollingElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_overflow)
    prepare(page, astronaut_png)
    assert send(page) == "ok"
    for tab in ("tccli", "curl", "Python SDK"):
        page.get_by_role("tab", name=tab).click()
        assert page.evaluate(no_overflow), page.evaluate("document.scrollingElement.scrollWidth")
    expect(page.locator("#after")).to_be_visible()
    box = page.locator("#after").bounding_box()
    assert box and box["x"] + box["width"] <= PHONE["width"]


# --- routes ---------------------------------------------------------------------------------------
def test_bare_root_redirects_to_the_playground(server: Server) -> None:
    with httpx.Client(base_url=server.url, trust_env=False) as http:
        rsp = http.get("/")
        assert rsp.status_code == 302 and rsp.headers["location"] == "/playground"
        # the API's own GET forms and every POST still reach the API (HTTP 200 JSON)
        for call in (
            http.get("/?Action=ImageToImage"),
            http.get("/", headers={"X-TC-Action": "ImageToImage"}),
            http.get("/", headers={"Authorization": "TC3-HMAC-SHA256 x"}),
            http.post("/", content=b"{}", headers={"Content-Type": "application/json"}),
        ):
            assert call.status_code == 200 and "Error" in call.json()["Response"]
        page = http.get("/playground")
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert http.get("/playground/playground.js").headers["content-type"].startswith("text/javascript")
        assert http.get("/playground/pyproject.toml").status_code == 404
        assert http.get("/playground/..%2Fstyles.toml").status_code == 404


def test_catalogue_links_previews_rendered_by_the_pipeline(server: Server) -> None:
    with httpx.Client(base_url=server.url, trust_env=False) as http:
        styles = http.get("/v1/styles").json()["Styles"]
        assert all(s["PreviewUrl"] == f"{server.url}/v1/styles/{s['Id']}/preview.jpg" for s in styles)
        first = http.get(styles[0]["PreviewUrl"])
        assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
        again = http.get(styles[0]["PreviewUrl"], headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        sketch = http.get(f"{server.url}/v1/styles/132/preview.jpg").content
        assert http.get("/v1/styles/999/preview.jpg").status_code == 404
    with Image.open(io.BytesIO(first.content)) as a, Image.open(io.BytesIO(sketch)) as b:
        assert a.size == b.size == (192, 192)
        diff = np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b.convert("RGB"), dtype=np.int16)).mean()
    assert diff > 10  # two styles, two different pictures


def test_previews_are_rendered_in_the_background_at_startup(tmp_path: Path) -> None:
    from restyle.styles import catalogue
    from tests.conftest import start_server

    srv = start_server(tmp_path, playground_previews="startup")
    try:
        deadline = time.monotonic() + 300  # ~15 s on an idle 2-core machine
        while "playground previews ready" not in srv.log():
            assert time.monotonic() < deadline and srv.proc.poll() is None, srv.log()[-3000:]
            # the server answers while it renders: /healthz and the page do not wait for the previews
            with httpx.Client(base_url=srv.url, trust_env=False, timeout=5) as http:
                assert http.get("/healthz").status_code == 200
            time.sleep(0.5)
        ready = re.search(r"playground previews ready: (\d+) styles", srv.log())
        assert ready and int(ready.group(1)) >= len(catalogue())
        with httpx.Client(base_url=srv.url, trust_env=False, timeout=5) as http:
            start = time.monotonic()
            assert http.get("/v1/styles/201/preview.jpg").status_code == 200
            assert time.monotonic() - start < 2  # served from memory, not rendered now
    finally:
        srv.stop()


def test_chinese_style_names_have_a_web_font(desktop: Page, server: Server) -> None:
    """Style names render on machines without CJK fonts: the page ships a subset holding every character."""
    from fontTools.ttLib import TTFont

    from restyle.styles import catalogue

    path = ROOT / "src" / "restyle" / "assets" / "playground" / "NotoSansSC-ui-subset.woff2"
    cmap = TTFont(str(path)).getBestCmap()
    names = "".join(s.zh for s in catalogue().values())
    missing = sorted({c for c in names if ord(c) > 0x7F and ord(c) not in cmap})
    assert not missing, f"rebuild with scripts/make_label_font.py --ui; missing {missing}"
    with httpx.Client(base_url=server.url, trust_env=False) as http:
        font = http.get("/playground/NotoSansSC-ui-subset.woff2")
        assert font.status_code == 200 and font.headers["content-type"] == "font/woff2"
        assert "font-src 'self'" in http.get("/playground").headers["content-security-policy"]
    loaded = desktop.evaluate(
        """async (text) => {
            const faces = await document.fonts.load('15px "Noto Sans SC UI Subset"', text);
            return faces.length > 0 && document.fonts.check('15px "Noto Sans SC UI Subset"', text);
        }""",
        names,
    )
    assert loaded
