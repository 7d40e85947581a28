"""Settings: each option declared once, with its type, default and one-line doc.

Sources, later wins: the defaults below, an optional TOML file (``--config`` or ``RESTYLE_CONFIG``), then
``RESTYLE_<NAME>`` environment variables (lists as JSON, e.g. ``RESTYLE_REGIONS='["ap-singapore"]'``), then
explicit values (command-line flags). pydantic-settings reads them (:meth:`Settings.settings_customise_sources`);
tables (``onnx_models``, ``diffusion_styles``) of several sources are merged key by key.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from restyle.config_tables import DiffusionStyle, OnnxModel

__all__ = ["DiffusionStyle", "OnnxModel", "Settings", "load_settings"]
MiB = 1024 * 1024
_TOML_FILE: ContextVar[Path | None] = ContextVar("restyle_toml_file", default=None)  # set by load_settings


class Settings(BaseSettings):
    """All of restyle's options. ``restyle config`` prints them with their docs."""

    model_config = SettingsConfigDict(env_prefix="RESTYLE_", extra="forbid", validate_default=True)

    # --- serving ---------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8080, ge=0, le=65535, description="TCP port to listen on (0 = any free port).")
    data_dir: Path = Field(Path("./data"), description="SQLite store, keys and local results live here.")
    public_url: str | None = Field(
        None, description="Base URL for result links (e.g. https://restyle.example.com); default: from Host."
    )
    log_level: str = Field("info", description="Logging level.")
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as text, or as JSON objects (with request_id) for log shippers."
    )
    playground_previews: Literal["startup", "on-demand"] = Field(
        "startup",
        description="Render the playground's style previews in the background at startup, one at a time "
        "(the first page load then finds them ready), or only when first requested.",
    )
    drain_timeout_s: float = Field(
        30.0,
        ge=0,
        description="On SIGTERM: refuse new calls, let running jobs finish for this long, then exit.",
    )

    # --- wire ------------------------------------------------------------------------------
    regions: list[str] = Field(["ap-singapore"], description="Accepted X-TC-Region values.")
    signature_skew_s: int = Field(300, ge=1, description="Allowed clock difference for signed requests.")
    auth_disabled: bool = Field(False, description="Skip signature checks (development only; logged loudly).")
    secret_id: str | None = Field(
        None, description="Ensure this SecretId exists at startup (with secret_key)."
    )
    secret_key: str | None = Field(None, description="SecretKey paired with secret_id.")
    master_key: str | None = Field(
        None,
        description="Key that encrypts stored secrets (base64, 32 bytes); default: <data_dir>/master.key.",
    )

    # --- limits ----------------------------------------------------------------------------
    max_body_bytes: int = Field(10 * MiB, ge=1024, description="Whole request body limit (POST).")
    max_unverified_body_bytes: int = Field(
        128 * MiB,
        ge=1024,
        description="Request body bytes held at once for callers whose signature is not checked yet; "
        "beyond: RequestLimitExceeded.",
    )
    max_query_bytes: int = Field(32 * 1024, ge=1024, description="Query string limit (GET).")
    max_image_b64_bytes: int = Field(8 * MiB, ge=1024, description="InputImage/LogoImage base64 text limit.")
    max_download_bytes: int = Field(8 * MiB, ge=1024, description="Downloaded image size limit.")
    max_side_px: int = Field(
        5000, description="A side this long or longer is rejected (ImageResolutionExceed)."
    )
    min_side_px: int = Field(
        50, description="A side this short or shorter is rejected (ParameterValueError)."
    )
    body_timeout_s: float = Field(30.0, gt=0, description="Time to receive the whole request body.")
    header_timeout_s: float = Field(
        10.0, gt=0, description="Time to receive a request's line and headers; slower clients are cut off."
    )
    max_header_bytes: int = Field(
        64 * 1024,
        ge=1024,
        description="Request line plus headers limit; larger heads get 431 and are closed "
        "(keep it above max_query_bytes, so long GET queries get RequestEntityTooLarge).",
    )
    max_headers: int = Field(100, ge=8, description="Header count limit; more get 431 and are closed.")
    max_requests: int = Field(
        512, ge=1, description="Requests in progress per process (head received); more: RequestLimitExceeded."
    )
    max_connections: int = Field(
        2048, ge=2, description="Open connections per process; beyond, the oldest idle one is closed."
    )
    max_connections_per_client: int = Field(
        128,
        ge=1,
        description="Open connections per client address; beyond, its oldest idle one is closed "
        "(raise it behind a reverse proxy).",
    )
    jobs_per_account: int = Field(3, ge=1, description="Concurrent jobs per account (JobNumExceed beyond).")
    requests_per_second: float = Field(
        20.0, gt=0, description="Per-account request rate (RequestLimitExceeded)."
    )
    job_timeout_s: float = Field(60.0, gt=0, description="Job time budget (FailedOperation.RequestTimeout).")
    compute_threads: int = Field(
        0, ge=0, description="Jobs that decode and stylise at once per process (0 = CPU count); others wait."
    )
    opencv_threads: int = Field(
        0, ge=0, description="Threads OpenCV may use inside one job (0 = OpenCV's default, all cores)."
    )
    worker_threads: int = Field(64, ge=1, description="Jobs in flight per process (downloads included).")

    # --- source fetching -------------------------------------------------------------------
    download_timeout_s: float = Field(10.0, gt=0, description="Total time budget of one URL download.")
    max_redirects: int = Field(3, ge=0, description="Redirects followed per download.")
    url_allowlist: list[str] = Field(
        [], description="Hosts or CIDRs that may be fetched even if private (tests, private deployments)."
    )

    # --- results ---------------------------------------------------------------------------
    result_ttl_s: int = Field(3600, ge=1, description="Lifetime of url results.")
    job_records_ttl_s: int = Field(
        30 * 86400, ge=60, description="How long rows of the jobs table are kept (pruned by the sweeper)."
    )
    jpeg_quality: int = Field(90, ge=30, le=100, description="JPEG quality of results.")
    origin_max_side: int = Field(2000, ge=64, description="Resolution=origin caps the long side to this.")

    # --- async jobs (SubmitImageToImageJob / Query / Cancel; restyle.jobs) ------------------
    jobs_queue: str = Field(
        "sqlite",
        description="Job queue: sqlite (<data_dir>/jobs.db) | redis (redis_url, many nodes) | dotted path.",
    )
    jobs_workers: int = Field(
        0,
        ge=0,
        description="Job worker threads per process (0 = the larger of jobs_per_account and compute_threads).",
    )
    jobs_max_waiting: int = Field(
        100, ge=1, description="Jobs one account may have waiting (JobNumExceed beyond)."
    )
    jobs_lease_s: float = Field(
        10.0,
        gt=0,
        description="A running job's lease, renewed every third of it; a dead node's jobs wait again after it.",
    )
    jobs_max_attempts: int = Field(
        3, ge=1, description="Runs of a job whose node died before it fails (FailedOperation.JobLost)."
    )
    jobs_poll_s: float = Field(0.2, gt=0, description="How often idle workers look for waiting jobs.")
    jobs_timeout_s: float = Field(
        600.0, gt=0, description="Time budget of one run of an async job (job_timeout_s is the sync call's)."
    )
    jobs_result_ttl_s: int = Field(
        3600,
        ge=60,
        le=604800,
        description="Default ResultTtl of job results (a Submit may set 60 s - 7 days).",
    )
    jobs_keep_s: float = Field(
        2 * 86400, ge=86400, description="Finished job records are kept this long after their result is gone."
    )
    callback_attempts: int = Field(5, ge=1, description="CallbackUrl deliveries tried per finished job.")
    callback_backoff_s: float = Field(
        1.0, gt=0, description="Wait before the 2nd delivery; doubles each time."
    )
    callback_timeout_s: float = Field(10.0, gt=0, description="Time budget of one callback delivery.")

    # --- provenance in result files (restyle.provenance) ------------------------------------
    provenance: Literal["c2pa+xmp", "c2pa", "xmp", "none"] = Field(
        "c2pa+xmp", description="Embedded provenance: C2PA manifest and/or GB 45438-2025 AIGC XMP label."
    )
    provenance_producer: str = Field(
        "restyle", description="ContentProducer of the AIGC label and C2PA generator name (your service)."
    )
    provenance_propagator: str = Field("", description="ContentPropagator of the AIGC label.")
    provenance_cert: Path | None = Field(
        None,
        description="C2PA signing chain (PEM, leaf first); default: made at first start in <data_dir>/provenance.",
    )
    provenance_key: Path | None = Field(None, description="Private key of provenance_cert (PEM).")

    # --- plugins (short registry name or dotted path) --------------------------------------
    storage: str = Field("local", description="Result storage: local | memory | s3 | dotted path.")
    limiter: str = Field("memory", description="Admission limiter: memory | redis | dotted path.")
    moderator: str = Field(
        "wordlist+nsfw",
        description="Moderator: none | wordlist (texts) | nsfw (images) | wordlist+nsfw (both) | dotted path.",
    )
    restorer: str = Field("detail", description="RestoreFace implementation: none | detail | dotted path.")
    upscaler: str = Field(
        "sharpen",
        description="EnhanceImage implementation: none | sharpen | esrgan (learned x2 super-resolution, "
        "sharpened, then back to size) | dotted path.",
    )
    engine_plugins: list[str] = Field(
        [],
        description="Extra style engines by dotted path (module:Class); each adds its styles to the "
        "catalogue in its configure_catalogue hook, naming itself by that path in Style.engine.",
    )
    blocked_terms_file: Path | None = Field(None, description="Extra moderation terms, one per line.")
    nsfw_thresholds: dict[str, float] = Field(
        {"Porn": 0.8, "Hentai": 0.8},
        description="moderator nsfw: a class (Drawing, Hentai, Neutral, Porn, Sexy) at or over its "
        "probability threshold refuses the image.",
    )
    nsfw_threads: int = Field(1, ge=1, description="moderator nsfw: onnxruntime threads per classification.")

    # --- learned engines: onnx, diffusion; EnhanceImage model -------------------------------
    onnx_device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="onnxruntime device: auto (CUDA when this onnxruntime has it), cpu or cuda."
    )
    onnx_threads: int = Field(
        0, ge=0, description="onnxruntime intra-op threads per model session (0 = onnxruntime's default)."
    )
    onnx_tile: int = Field(
        768, ge=64, description="onnx engine: images larger than this are styled in tiles of this size."
    )
    onnx_overlap: int = Field(32, ge=0, description="onnx engine: overlap of neighbouring tiles, in pixels.")
    onnx_models_dir: Path | None = Field(
        None, description="Folder that relative onnx_models paths are read from (default: the working dir)."
    )
    onnx_models: dict[str, OnnxModel] = Field(
        {},
        description="User ONNX image-to-image models by style id ([onnx_models.<id>] path, layout, range, "
        "multiple, channels, ...); an existing id is switched to the model, a new id is added.",
    )
    learned_tencent_styles: list[str] = Field(
        [],
        description="Tencent style ids painted by a learned onnx model instead of classic: "
        "104 (watercolor), 133 (Monet garden), 134 (impasto).",
    )
    diffusion_checkpoint: Path | None = Field(
        None, description="Local diffusers img2img checkpoint folder (never a hub id; read offline)."
    )
    diffusion_steps: int = Field(
        20, ge=1, le=200, description="Diffusion steps (at least ceil(1/strength) are run, so some denoise)."
    )
    diffusion_device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Diffusion device: auto (CUDA when torch sees a GPU), cpu or cuda."
    )
    diffusion_styles: dict[str, DiffusionStyle] = Field(
        {},
        description="Style ids painted by the diffusion engine ([diffusion_styles.<id>] template, "
        "strength, zh, en, negative); an existing id is switched, a new id is added.",
    )
    diffusion_models: Path | None = Field(
        None, description="Model registry TOML (base checkpoints, LoRAs, ControlNets; restyle models add)."
    )
    diffusion_resident_models: int = Field(
        2, ge=1, description="Base models kept loaded at once (least recently used is unloaded)."
    )
    diffusion_dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "auto", description="Diffusion weights dtype: auto (float16 on CUDA, float32 on CPU)."
    )
    diffusion_attention: Literal["sdpa", "eager"] = Field(
        "sdpa", description="Attention: torch scaled_dot_product_attention (sdpa) or plain (eager)."
    )
    diffusion_channels_last: bool = Field(False, description="UNet and VAE in channels-last memory format.")
    diffusion_compile: bool = Field(False, description="torch.compile the UNet (slow first call).")
    diffusion_vae_tiling: bool = Field(False, description="Decode large outputs in VAE tiles (less memory).")
    diffusion_cpu_offload: Literal["none", "model", "sequential"] = Field(
        "none",
        description="CUDA only: keep idle components on the CPU (model) or stream layers (sequential).",
    )
    diffusion_warmup: bool = Field(False, description="Load and run each diffusion style once at startup.")
    diffusion_threads: int = Field(0, ge=0, description="torch CPU threads (0 = torch's default).")
    diffusion_batch_size: int = Field(
        1, ge=1, le=64, description="Concurrent requests of one preset painted in one batch (1 = off)."
    )
    diffusion_batch_wait_ms: float = Field(
        10.0, ge=0, le=1000, description="How long a request waits for others to join its batch."
    )
    esrgan_tile: int = Field(
        192, ge=32, description="EnhanceImage esrgan: input tile size (tiles overlap by esrgan_overlap)."
    )
    esrgan_overlap: int = Field(8, ge=0, description="EnhanceImage esrgan: tile overlap, in input pixels.")

    # --- scale-out: Redis admission, S3 results, Ray Serve engines ---------------------------
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis for limiter=redis.")
    redis_prefix: str = Field("restyle:", description="Key prefix in Redis (several deployments, one Redis).")
    redis_timeout_s: float = Field(2.0, gt=0, description="Redis connect and read timeout (limiter=redis).")
    redis_outage_s: float = Field(
        5.0,
        ge=0,
        description="After a Redis failure, calls fail fast (ServerError) and the node is not ready for this long.",
    )
    lease_ttl_s: float = Field(
        10.0,
        gt=0,
        description="Job lease lifetime in Redis; renewed every TTL/3, a dead node's slots free after it.",
    )
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint (default: AWS).")
    s3_presign_endpoint_url: str | None = Field(
        None, description="Endpoint that result links point to, if clients reach S3 by another address."
    )
    s3_region: str = Field("us-east-1", description="S3 region (signing).")
    s3_bucket: str = Field("restyle", description="Bucket for storage=s3.")
    s3_prefix: str = Field("results/", description="Key prefix of results in the bucket.")
    s3_access_key_id: str | None = Field(
        None, description="S3 access key (default: boto3's credential chain)."
    )
    s3_secret_access_key: str | None = Field(None, description="S3 secret key paired with s3_access_key_id.")
    s3_addressing_style: Literal["auto", "path", "virtual"] = Field(
        "auto", description="Bucket in the path (most self-hosted servers) or in the host name."
    )
    s3_create_bucket: bool = Field(False, description="Create the bucket at startup if it does not exist.")
    s3_sweep: bool = Field(
        True, description="Delete expired results by listing the bucket (off when a lifecycle rule does it)."
    )
    engine_backend: Literal["local", "ray"] = Field(
        "local", description="Run style engines in this process, or as Ray Serve replicas."
    )
    ray_address: str = Field(
        "local", description="Ray cluster to join: local (start one for this node), auto, or ray://host:port."
    )
    ray_replicas: int = Field(1, ge=1, description="Ray Serve replicas per engine.")
    ray_max_ongoing_requests: int = Field(2, ge=1, description="Jobs one replica runs at once.")
    ray_max_queued_requests: int = Field(
        16,
        ge=-1,
        description="Jobs waiting per node for a replica (-1 = unbounded); beyond: RequestLimitExceeded.",
    )
    ray_num_cpus: float = Field(1.0, gt=0, description="CPUs reserved per replica.")
    ray_num_gpus: float = Field(
        1.0, ge=0, description="GPUs per replica, used only when the cluster has GPUs."
    )
    ray_object_store_mb: int = Field(256, ge=64, description="Object store size of a local Ray cluster.")

    def resolved_compute_threads(self) -> int:
        return self.compute_threads or max(1, os.cpu_count() or 1)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """First wins: explicit values, ``RESTYLE_*`` environment, the TOML file of :func:`load_settings`."""
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_TOML_FILE.get())
        return init_settings, env_settings, toml


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from the defaults, a TOML file (``config_file`` or ``RESTYLE_CONFIG``), the environment,
    then ``overrides`` (those that are not None: flags left unset)."""
    path = config_file or os.environ.get("RESTYLE_CONFIG")
    toml_file = Path(path) if path else None
    if toml_file is not None and not toml_file.is_file():
        msg = f"settings file {str(toml_file)!r} does not exist or is not a file"
        raise FileNotFoundError(msg)
    token = _TOML_FILE.set(toml_file)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    finally:
        _TOML_FILE.reset(token)
