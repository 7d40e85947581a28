// restyle playground: builds an ImageToImage request, signs it in this tab with TC3-HMAC-SHA256
// (exactly as the Python SDK does, spec/contract.md §4), posts it to this server's API endpoint `/`
// and shows what went over the wire. The SecretKey never leaves the tab: it only keys the HMAC.

const ACTION = "ImageToImage";
const VERSION = "2022-12-29";
const SERVICE = "aiart";
const ALGORITHM = "TC3-HMAC-SHA256";
const CONTENT_TYPE = "application/json";
const DEFAULT_STYLE = "201";
const INPUT_TOKEN = "@@INPUT_IMAGE@@"; // where the photo's base64 goes
const LOGO_TOKEN = "@@LOGO_IMAGE@@"; // where the logo's base64 goes
const INLINE_CURL_BODY = 2000; // longer bodies go to request.json

const $ = (id) => document.getElementById(id);
const utf8 = new TextEncoder();

// --- SHA-256 and HMAC: WebCrypto where the page is a secure context, else a small pure-JS fallback ----
const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
const asBytes = (v) => (typeof v === "string" ? utf8.encode(v) : new Uint8Array(v));

const K256 = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const ror = (x, n) => (x >>> n) | (x << (32 - n));

function sha256Js(data) {
  const bytes = asBytes(data);
  const len = bytes.length;
  const padded = new Uint8Array((((len + 8) >> 6) + 1) << 6);
  padded.set(bytes);
  padded[len] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(len / 0x20000000));
  view.setUint32(padded.length - 4, (len << 3) >>> 0);
  const H = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const W = new Uint32Array(64);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) W[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = ror(W[i - 15], 7) ^ ror(W[i - 15], 18) ^ (W[i - 15] >>> 3);
      const s1 = ror(W[i - 2], 17) ^ ror(W[i - 2], 19) ^ (W[i - 2] >>> 10);
      W[i] = W[i - 16] + s0 + W[i - 7] + s1;
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + W[i]) | 0;
      const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  H.forEach((v, i) => outView.setUint32(i * 4, v));
  return out;
}

function hmacJs(key, msg) {
  let k = asBytes(key);
  if (k.length > 64) k = sha256Js(k);
  const block = new Uint8Array(64);
  block.set(k);
  const inner = new Uint8Array(64 + asBytes(msg).length);
  inner.set(block.map((x) => x ^ 0x36));
  inner.set(asBytes(msg), 64);
  const outer = new Uint8Array(64 + 32);
  outer.set(block.map((x) => x ^ 0x5c));
  outer.set(sha256Js(inner), 64);
  return sha256Js(outer);
}

const hasWebCrypto = () => Boolean(window.isSecureContext && window.crypto && window.crypto.subtle);

async function sha256(data) {
  if (!hasWebCrypto()) return sha256Js(data);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", asBytes(data)));
}

async function hmac(key, msg) {
  if (!hasWebCrypto()) return hmacJs(key, msg);
  const k = await crypto.subtle.importKey("raw", asBytes(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, asBytes(msg)));
}

/** Headers of a signed POST, as `restyle.api.signing.sign_tc3_headers` and the Python SDK build them. */
async function signTc3({ secretId, secretKey, host, body, timestamp, region, action = ACTION }) {
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10); // UTC date of the timestamp
  const canonicalHeaders = `content-type:${CONTENT_TYPE}\nhost:${host}\n`;
  const signedHeaders = "content-type;host";
  const canonical = ["POST", "/", "", canonicalHeaders, signedHeaders, hex(await sha256(body))].join("\n");
  const scope = `${date}/${SERVICE}/tc3_request`;
  const stringToSign = [ALGORITHM, String(timestamp), scope, hex(await sha256(canonical))].join("\n");
  const kDate = await hmac("TC3" + secretKey, date);
  const kService = await hmac(kDate, SERVICE);
  const kSigning = await hmac(kService, "tc3_request");
  const signature = hex(await hmac(kSigning, stringToSign));
  const headers = {
    "Content-Type": CONTENT_TYPE,
    Host: host,
    "X-TC-Action": action,
    "X-TC-Version": VERSION,
    "X-TC-Region": region,
    "X-TC-Timestamp": String(timestamp),
    Authorization: `${ALGORITHM} Credential=${secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
  return { headers, canonical, stringToSign };
}

// exposed for the browser tests (signing vectors) and for curious users in the console
window.restylePlayground = {
  signTc3,
  sha256Hex: async (s) => hex(await sha256(s)),
  hmacHex: async (k, m) => hex(await hmac(k, m)),
  sha256JsHex: (s) => hex(sha256Js(s)),
  hmacJsHex: (k, m) => hex(hmacJs(k, m)),
  hasWebCrypto,
};

// --- small helpers -------------------------------------------------------------------------------
const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`; // POSIX shell single quotes
const ms = (v) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
const kib = (n) => (n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(2)} MiB`);

function shorten(value) {
  // long strings (base64 images) shortened for display
  return JSON.stringify(
    value,
    (_, v) => (typeof v === "string" && v.length > 96 ? `${v.slice(0, 40)}…(${v.length} chars)` : v),
    2,
  );
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error || new Error(`cannot read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

function base64ToBytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let objectUrls = {};
function setObjectUrl(slot, blob) {
  if (objectUrls[slot]) URL.revokeObjectURL(objectUrls[slot]);
  objectUrls[slot] = blob ? URL.createObjectURL(blob) : "";
  return objectUrls[slot];
}

function setState(state, html) {
  const status = $("status");
  status.dataset.state = state;
  status.innerHTML = html;
  document.body.dataset.state = state;
}

// --- credentials (tab only) ----------------------------------------------------------------------
const STORE = { id: "restyle.secretId", key: "restyle.secretKey" };

function loadCredentials() {
  try {
    const id = sessionStorage.getItem(STORE.id);
    const key = sessionStorage.getItem(STORE.key);
    if (id || key) {
      $("secret-id").value = id || "";
      $("secret-key").value = key || "";
      $("remember").checked = true;
    }
  } catch {
    /* storage disabled: nothing to restore */
  }
}

function saveCredentials() {
  try {
    if ($("remember").checked) {
      sessionStorage.setItem(STORE.id, $("secret-id").value.trim());
      sessionStorage.setItem(STORE.key, $("secret-key").value);
    } else {
      sessionStorage.removeItem(STORE.id);
      sessionStorage.removeItem(STORE.key);
    }
  } catch {
    /* storage disabled */
  }
}

// --- style gallery -------------------------------------------------------------------------------
let catalogue = [];

async function loadStyles() {
  const gallery = $("style-gallery");
  try {
    const rsp = await fetch("/v1/styles", { cache: "no-cache" });
    catalogue = (await rsp.json()).Styles;
  } catch (err) {
    gallery.innerHTML = "";
    gallery.append(Object.assign(document.createElement("p"), { className: "hint", textContent: `Could not load /v1/styles: ${err}` }));
    return;
  }
  gallery.textContent = "";
  const initial = catalogue.some((s) => s.Id === DEFAULT_STYLE) ? DEFAULT_STYLE : catalogue[0]?.Id;
  for (const style of catalogue) {
    const label = document.createElement("label");
    label.className = "style-card";
    const input = Object.assign(document.createElement("input"), { type: "radio", name: "style", value: style.Id });
    input.checked = style.Id === initial;
    input.setAttribute("aria-labelledby", `style-name-${style.Id}`);
    input.setAttribute("aria-describedby", `style-meta-${style.Id}`);
    const card = document.createElement("span");
    card.className = "card";
    const img = Object.assign(document.createElement("img"), {
      src: style.PreviewUrl,
      alt: `The sample photo in the ${style.NameEn} style`,
      width: 96,
      height: 96,
      decoding: "async",
    });
    const name = Object.assign(document.createElement("span"), { className: "name", id: `style-name-${style.Id}` });
    name.append(document.createTextNode(style.NameEn));
    const zh = Object.assign(document.createElement("span"), { className: "zh", lang: "zh", textContent: style.NameZh });
    const meta = Object.assign(document.createElement("span"), {
      className: "meta",
      id: `style-meta-${style.Id}`,
      textContent: `${style.Id} · ${style.LatencyClass}`,
    });
    card.append(img, name, zh, meta);
    label.append(input, card);
    gallery.append(label);
  }
  gallery.setAttribute("aria-busy", "false");
  styleChanged();
}

function selectedStyle() {
  const checked = document.querySelector('input[name="style"]:checked');
  return catalogue.find((s) => s.Id === (checked ? checked.value : DEFAULT_STYLE));
}

function styleChanged() {
  const style = selectedStyle();
  if (!style) return;
  $("strength").placeholder = `style default (${style.DefaultStrength})`;
  $("prompt-hint").textContent = style.UsesPrompt
    ? `The ${style.NameEn} engine uses the prompt.`
    : `The ${style.NameEn} engine (${style.Engine}) ignores the prompt; it is still validated and moderated.`;
  renderSnippets();
}

// --- the request ---------------------------------------------------------------------------------
const inputFile = () => $("input-file").files[0] || null;
const logoFile = () => ($("logo-add").checked && $("logo-file").files[0]) || null;

/** ImageToImage parameters in wire order, with tokens where file contents go. */
function describeParams() {
  const p = {};
  const url = $("input-url").value.trim();
  if (url) p.InputUrl = url;
  else if (inputFile()) p.InputImage = INPUT_TOKEN;
  const prompt = $("prompt").value;
  const negative = $("negative-prompt").value;
  if (prompt) p.Prompt = prompt;
  if (negative) p.NegativePrompt = negative;
  p.Styles = [selectedStyle()?.Id || DEFAULT_STYLE];
  p.ResultConfig = { Resolution: $("resolution").value };
  p.LogoAdd = $("logo-add").checked ? 1 : 0;
  if (logoFile()) {
    const int = (id) => Number.parseInt($(id).value, 10) || 0;
    p.LogoParam = {
      LogoImage: LOGO_TOKEN,
      LogoRect: { X: int("logo-x"), Y: int("logo-y"), Width: int("logo-w"), Height: int("logo-h") },
    };
  }
  const strength = $("strength").value.trim();
  if (strength !== "") p.Strength = Number(strength);
  p.RspImgType = $("rsp-img-type").value;
  p.EnhanceImage = $("enhance").checked ? 1 : 0;
  p.RestoreFace = Number($("restore-face").value);
  return p;
}

async function fillImages(described) {
  const p = structuredClone(described);
  if (p.InputImage === INPUT_TOKEN) p.InputImage = await readBase64(inputFile());
  if (p.LogoParam && p.LogoParam.LogoImage === LOGO_TOKEN) p.LogoParam.LogoImage = await readBase64(logoFile());
  return p;
}

function showRequest(signed, params, host) {
  const lines = ["POST / HTTP/1.1"];
  for (const [k, v] of Object.entries(signed.headers)) lines.push(`${k}: ${v}${k === "Host" ? "   (sent by the browser)" : ""}`);
  $("req-headers").textContent = lines.join("\n");
  $("req-body").textContent = shorten(params);
  $("req-canonical").textContent = `# canonical request (its SHA-256 goes into the string to sign)\n${signed.canonical}`;
  $("req-sts").textContent = `# string to sign (HMAC-SHA256 with the key derived from SecretKey)\n${signed.stringToSign}`;
  $("endpoint").textContent = `${location.protocol}//${host}/`;
}

function parseServerTiming(header) {
  if (!header) return [];
  return header
    .split(",")
    .map((part) => {
      const [name, ...attrs] = part.trim().split(";");
      const dur = attrs.map((a) => a.trim()).find((a) => a.startsWith("dur="));
      return { name: name.trim(), dur: dur ? Number(dur.slice(4)) : NaN };
    })
    .filter((t) => t.name && Number.isFinite(t.dur));
}

function showTiming(clientMs, signMs, timings) {
  $("t-client").textContent = `${ms(clientMs)} (+ ${ms(signMs)} hashing & signing)`;
  const total = timings.find((t) => t.name === "total");
  const pipeline = timings.find((t) => t.name === "pipeline");
  $("t-server").textContent = total
    ? `${ms(total.dur)}${pipeline ? ` · pipeline ${ms(pipeline.dur)}` : ""}`
    : "no Server-Timing header";
  const steps = timings.filter((t) => t.name !== "total" && t.name !== "pipeline");
  const other = pipeline ? pipeline.dur - steps.reduce((sum, t) => sum + t.dur, 0) : 0;
  if (other >= 1) steps.push({ name: "waiting, other", dur: other }); // compute slot, worker thread
  const max = Math.max(1, ...steps.map((t) => t.dur));
  const list = $("timing");
  list.textContent = "";
  for (const t of steps) {
    const li = document.createElement("li");
    const name = Object.assign(document.createElement("span"), { className: "step", textContent: t.name });
    const bar = Object.assign(document.createElement("span"), { className: "bar" });
    bar.style.setProperty("--w", `${Math.max(1, (100 * t.dur) / max).toFixed(1)}%`);
    bar.setAttribute("aria-hidden", "true");
    const val = Object.assign(document.createElement("span"), { className: "dur", textContent: ms(t.dur) });
    li.append(name, bar, val);
    list.append(li);
  }
  $("meta").hidden = false;
}

function showError(code, message, requestId) {
  $("error").hidden = false;
  $("error-code").textContent = code;
  $("error-message").textContent = message + (requestId ? ` (RequestId ${requestId})` : "");
  setState("error", `Failed: <code></code>`);
  $("status").querySelector("code").textContent = code;
}

function clearOutput() {
  $("error").hidden = true;
  $("after").hidden = true;
  $("after-empty").hidden = false;
  $("after-empty").textContent = "waiting…";
  $("download").hidden = true;
}

async function showBefore(params) {
  const before = $("before");
  if (params.InputUrl) before.src = params.InputUrl;
  else if (inputFile()) before.src = setObjectUrl("before", inputFile());
  else {
    before.hidden = true;
    $("before-empty").hidden = false;
    return;
  }
  before.alt = params.InputUrl ? `Input image from ${params.InputUrl}` : `Input photo ${inputFile().name}`;
  before.hidden = false;
  $("before-empty").hidden = true;
}

async function showResult(result, style) {
  const after = $("after");
  let size = "";
  if (/^https?:\/\//.test(result.ResultImage)) {
    after.src = result.ResultImage;
    $("download").href = result.ResultImage;
    size = "link, valid for the configured time";
  } else {
    const bytes = base64ToBytes(result.ResultImage);
    const png = bytes[0] === 0x89 && bytes[1] === 0x50;
    const url = setObjectUrl("after", new Blob([bytes], { type: png ? "image/png" : "image/jpeg" }));
    after.src = url;
    $("download").href = url;
    size = `${kib(bytes.length)} ${png ? "PNG" : "JPEG"}`;
  }
  after.alt = `The result in the ${style ? style.NameEn : "chosen"} style`;
  await after.decode();
  after.hidden = false;
  $("after-empty").hidden = true;
  $("download").hidden = false;
  $("result-size").textContent = `${after.naturalWidth}×${after.naturalHeight} px · ${size}`;
}

let lastSigned = null; // { headers, body, host } of the last call, for the curl snippet

/** Sign and POST one more action (the async job calls); the parsed Response, or an Error thrown. */
async function callAction(action, params) {
  const body = JSON.stringify(params);
  const signed = await signTc3({
    secretId: $("secret-id").value.trim(),
    secretKey: $("secret-key").value,
    host: location.host,
    body,
    timestamp: Math.floor(Date.now() / 1000),
    region: $("region").value.trim() || "ap-singapore",
    action,
  });
  const headers = { ...signed.headers };
  delete headers.Host;
  const rsp = await fetch("/", {
    method: "POST", headers, body, cache: "no-store", credentials: "omit", signal: AbortSignal.timeout(15000),
  });
  const reply = JSON.parse(await rsp.text()).Response;
  $("rsp-body").textContent = `HTTP ${rsp.status} ${rsp.headers.get("Content-Type") || ""}\n${shorten({ Response: reply })}`;
  $("request-id").textContent = reply.RequestId || "–";
  return reply;
}

/** Async mode: the Submit reply carries a JobId; poll Query, showing queue position and progress. */
async function pollJob(jobId) {
  const bar = $("job-progress");
  bar.hidden = false;
  bar.value = 0;
  const deadline = Date.now() + 15 * 60 * 1000;
  try {
    let failures = 0;
    while (Date.now() < deadline) {
      let q;
      try {
        q = await callAction("QueryImageToImageJob", { JobId: jobId });
        failures = 0;
      } catch (err) {
        // a dropped connection while polling is retried: the job goes on on the server
        if (++failures > 5) throw err;
        await new Promise((r) => setTimeout(r, 400));
        continue;
      }
      if (q.Error) return { error: q.Error, requestId: q.RequestId };
      bar.value = q.Progress || 0;
      if (q.JobStatusCode === "5") return { done: q };
      if (q.JobStatusCode === "4") return { error: { Code: q.JobErrorCode, Message: q.JobErrorMsg }, requestId: q.RequestId };
      const where = q.JobStatusCode === "1" ? `waiting, position ${q.QueuePosition} in line` : `running, ${q.Progress} %`;
      setState("busy", `Job <code></code>: ${where}…`);
      $("status").querySelector("code").textContent = jobId;
      await new Promise((r) => setTimeout(r, 400));
    }
    return { error: { Code: "Playground", Message: "The job did not finish within 15 minutes." }, requestId: "" };
  } finally {
    bar.hidden = true;
  }
}

async function send(event) {
  event.preventDefault();
  const form = $("form");
  if (!form.reportValidity()) return;
  saveCredentials();
  const button = $("send");
  button.disabled = true;
  $("out-title").closest("section").setAttribute("aria-busy", "true");
  clearOutput();
  setState("busy", "Reading files and signing…");
  try {
    const described = describeParams();
    const params = await fillImages(described);
    const body = JSON.stringify(params);
    const host = location.host; // browsers send Host themselves; it is what gets signed
    const timestamp = Math.floor(Date.now() / 1000);
    const t0 = performance.now();
    const asyncMode = $("async-mode").checked;
    const signed = await signTc3({
      secretId: $("secret-id").value.trim(),
      secretKey: $("secret-key").value,
      host,
      body,
      timestamp,
      region: $("region").value.trim() || "ap-singapore",
      action: asyncMode ? "SubmitImageToImageJob" : ACTION,
    });
    const signMs = performance.now() - t0;
    lastSigned = { headers: signed.headers, body, host };
    showRequest(signed, params, host);
    renderSnippets();
    await showBefore(params);
    setState("busy", "Waiting for the server…");
    const headers = { ...signed.headers };
    delete headers.Host; // a forbidden header name for scripts: the browser sets it to location.host
    const t1 = performance.now();
    const rsp = await fetch("/", { method: "POST", headers, body, cache: "no-store", credentials: "omit" });
    const text = await rsp.text();
    const clientMs = performance.now() - t1;
    showTiming(clientMs, signMs, parseServerTiming(rsp.headers.get("Server-Timing")));
    let reply;
    try {
      reply = JSON.parse(text).Response;
    } catch {
      $("rsp-body").textContent = `HTTP ${rsp.status}\n${text.slice(0, 2000)}`;
      showError(`HTTP ${rsp.status}`, "The reply is not the API's JSON envelope.", "");
      return;
    }
    $("rsp-body").textContent = `HTTP ${rsp.status} ${rsp.headers.get("Content-Type") || ""}\n${shorten({ Response: reply })}`;
    $("request-id").textContent = reply.RequestId || "–";
    if (reply.Error) {
      $("result-size").textContent = "–";
      $("after-empty").textContent = "no result";
      showError(reply.Error.Code, reply.Error.Message, reply.RequestId);
      return;
    }
    const style = selectedStyle();
    if (asyncMode) {
      const job = await pollJob(reply.JobId);
      if (job.error) {
        $("result-size").textContent = "–";
        $("after-empty").textContent = "no result";
        showError(job.error.Code, job.error.Message, job.requestId);
        return;
      }
      reply = { ...job.done, ResultImage: job.done.ResultImage[0] };
      for (let tries = 1; ; tries++) {
        try {
          await showResult(reply, style); // a link: a dropped connection is worth another try
          break;
        } catch (err) {
          if (tries >= 3) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    } else {
      await showResult(reply, style);
    }
    setState("ok", `Done: <strong></strong> in ${ms(clientMs)}.`);
    $("status").querySelector("strong").textContent = style ? `${style.NameEn} (${style.Id})` : "result";
  } catch (err) {
    $("after-empty").textContent = "no result";
    showError("Playground", err && err.message ? err.message : String(err), "");
  } finally {
    button.disabled = false;
    $("out-title").closest("section").setAttribute("aria-busy", "false");
  }
}

// --- snippets ------------------------------------------------------------------------------------
function pythonSnippet(p, { endpoint, protocol, region, imageName, logoName }) {
  const shown = structuredClone(p);
  delete shown.InputImage;
  if (shown.LogoParam) delete shown.LogoParam.LogoImage;
  const lines = [
    "# pip install tencentcloud-sdk-python-aiart==3.1.82",
    "# export TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=...",
    "import base64",
    "import json",
    "import os",
    "",
    "from tencentcloud.aiart.v20221229 import aiart_client, models",
    "from tencentcloud.common import credential",
    "from tencentcloud.common.profile.client_profile import ClientProfile",
    "from tencentcloud.common.profile.http_profile import HttpProfile",
    "",
  ];
  if (p.InputImage) lines.push(`IMAGE_PATH = ${JSON.stringify(imageName)}  # the photo to restyle`);
  if (p.LogoParam) lines.push(`LOGO_PATH = ${JSON.stringify(logoName)}  # your logo`);
  if (p.RspImgType !== "url") lines.push(`RESULT_PATH = "result.jpg"`);
  lines.push("", `params = ${JSON.stringify(shown, null, 4)}`);
  if (p.InputImage) {
    lines.push("with open(IMAGE_PATH, \"rb\") as f:", "    params[\"InputImage\"] = base64.b64encode(f.read()).decode()");
  }
  if (p.LogoParam) {
    lines.push("with open(LOGO_PATH, \"rb\") as f:", "    params[\"LogoParam\"][\"LogoImage\"] = base64.b64encode(f.read()).decode()");
  }
  lines.push(
    "",
    'cred = credential.Credential(os.environ["TENCENTCLOUD_SECRET_ID"], os.environ["TENCENTCLOUD_SECRET_KEY"])',
    `http_profile = HttpProfile(endpoint=${JSON.stringify(endpoint)}, protocol=${JSON.stringify(protocol)})`,
    `client = aiart_client.AiartClient(cred, ${JSON.stringify(region)}, ClientProfile(httpProfile=http_profile))`,
    "",
    "req = models.ImageToImageRequest()",
    "req.from_json_string(json.dumps(params))",
    "resp = client.ImageToImage(req)",
    'print("RequestId", resp.RequestId)',
  );
  if (p.RspImgType === "url") lines.push("print(resp.ResultImage)  # a link to the result");
  else lines.push("with open(RESULT_PATH, \"wb\") as f:", "    f.write(base64.b64decode(resp.ResultImage))", 'print("wrote", RESULT_PATH)');
  return lines.join("\n");
}

function tccliSnippet(p, { origin, region, imageName, logoName }) {
  const head = [
    "# pip install tccli==3.1.171.1 tencentcloud-sdk-python==3.1.171   # newer releases dropped ImageToImage",
    "# export TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=...",
  ];
  const call = `tccli aiart ImageToImage --region ${shq(region)} --endpoint ${shq(origin)}`;
  if (!p.InputImage && !p.LogoParam) {
    const args = Object.entries(p).map(([k, v]) => `  --${k} ${shq(typeof v === "string" ? v : JSON.stringify(v))}`);
    return [...head, `${call} \\`, args.join(" \\\n")].join("\n");
  }
  // files go through params.json: one base64 image is usually too long for a single shell argument
  const json = JSON.stringify(p);
  const parts = json.split(new RegExp(`(${INPUT_TOKEN}|${LOGO_TOKEN})`));
  const cmds = parts.map((part) => {
    if (part === INPUT_TOKEN) return `base64 -w0 ${shq(imageName)}`;
    if (part === LOGO_TOKEN) return `base64 -w0 ${shq(logoName)}`;
    return `printf '%s' ${shq(part)}`;
  });
  return [
    ...head,
    "# params.json: the parameters with the image(s) inlined (GNU base64; on macOS use `base64 -i FILE`)",
    `{ ${cmds.join("; ")}; } > params.json`,
    `${call} --cli-input-json file://params.json`,
  ].join("\n");
}

function curlSnippet(signed, origin) {
  if (!signed) return "# Press “Sign & send”: a curl command needs a fresh signature, valid for 5 minutes.";
  const when = new Date(Number(signed.headers["X-TC-Timestamp"]) * 1000).toISOString().replace(".000", "");
  const lines = [
    `# Signed for ${signed.host} at ${when}: the server accepts it for 5 minutes, with exactly this body.`,
    `curl -sS ${shq(`${origin}/`)} \\`,
  ];
  for (const [k, v] of Object.entries(signed.headers)) {
    if (k !== "Host") lines.push(`  -H ${shq(`${k}: ${v}`)} \\`);
  }
  lines.push(signed.body.length <= INLINE_CURL_BODY ? `  --data-raw ${shq(signed.body)}` : "  --data-binary @request.json");
  return lines.join("\n");
}

function renderSnippets() {
  const p = describeParams();
  const ctx = {
    endpoint: location.host,
    protocol: location.protocol === "https:" ? "https" : "http",
    origin: location.origin,
    region: $("region").value.trim() || "ap-singapore",
    imageName: inputFile() ? inputFile().name : "photo.jpg",
    logoName: logoFile() ? logoFile().name : "logo.png",
  };
  $("snippet-python").textContent = pythonSnippet(p, ctx);
  $("snippet-tccli").textContent = tccliSnippet(p, ctx);
  $("snippet-curl").textContent = curlSnippet(lastSigned, location.origin);
  const link = $("body-download");
  if (lastSigned && lastSigned.body.length > INLINE_CURL_BODY) {
    link.href = setObjectUrl("body", new Blob([lastSigned.body], { type: CONTENT_TYPE }));
    link.hidden = false;
  } else {
    link.hidden = true;
  }
}

// --- tabs and copy buttons -----------------------------------------------------------------------
function setupTabs() {
  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      const target = tabs[(next + tabs.length) % tabs.length];
      select(target);
      target.focus();
    });
  });
}

function setupCopy() {
  const button = $("copy-snippet");
  button.addEventListener("click", async () => {
    const panel = document.querySelector('[role="tabpanel"]:not([hidden]) code');
    try {
      await navigator.clipboard.writeText(panel.textContent);
      button.textContent = "Copied";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(panel);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    }
    setTimeout(() => (button.textContent = "Copy"), 2000);
  });
}

async function useSample() {
  const rsp = await fetch("/playground/astronaut.jpg");
  const file = new File([await rsp.blob()], "astronaut.jpg", { type: "image/jpeg" });
  const dt = new DataTransfer();
  dt.items.add(file);
  $("input-file").files = dt.files;
  $("input-file").dispatchEvent(new Event("change", { bubbles: true }));
}

function init() {
  $("endpoint").textContent = `${location.origin}/`;
  loadCredentials();
  setupTabs();
  setupCopy();
  const form = $("form");
  form.addEventListener("submit", send);
  form.addEventListener("input", (e) => {
    if ((e.target.id === "secret-id" || e.target.id === "secret-key") && $("remember").checked) saveCredentials();
    renderSnippets();
  });
  form.addEventListener("change", (e) => {
    if (e.target.name === "style") styleChanged();
    if (e.target.id === "remember") saveCredentials();
    if (e.target.id === "input-file" && inputFile()) {
      $("input-url").value = "";
      showBefore({});
    }
    renderSnippets();
  });
  $("logo-add").addEventListener("change", () => {
    $("logo-details").classList.toggle("off", !$("logo-add").checked);
  });
  $("use-sample").addEventListener("click", useSample);
  if (!hasWebCrypto()) {
    setState("idle", "This page is not a secure context (https or localhost), so it signs with its built-in SHA-256 instead of WebCrypto.");
  }
  renderSnippets();
  loadStyles();
}

init();
