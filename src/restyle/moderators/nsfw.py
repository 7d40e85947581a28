"""Image moderation with nsfwjs's MobileNetV2 classifier (MIT), shipped as ONNX beside this package.

The classifier gives five probabilities — Drawing, Hentai, Neutral, Porn, Sexy — for the whole image
(resized to 224×224). An image is refused when any class reaches its threshold
(``RESTYLE_NSFW_THRESHOLDS``, default ``{"Porn": 0.8, "Hentai": 0.8}``; Drawing, Neutral and Sexy are
not refused unless given a threshold). An input image → ``OperationDenied.ImageIllegalDetected``, a
generated image → ``FailedOperation.GenerateImageFailed``; the message names stage, category and score.

``nsfw`` judges images only (texts pass); ``wordlist+nsfw`` adds the term-list text moderator.
onnxruntime is imported when the moderator is built (startup), and a missing one stops startup with
the command to install it. The model file and its licence: ``models/README.md``.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from restyle import errors, onnx_sessions
from restyle.imaging.arrays import U8
from restyle.moderators import BaseModerator, Stage
from restyle.moderators import wordlist as wordlist_moderator

if TYPE_CHECKING:
    from restyle.config import Settings

CLASSES = ("Drawing", "Hentai", "Neutral", "Porn", "Sexy")
DEFAULT_THRESHOLDS = {"Porn": 0.8, "Hentai": 0.8}
MODEL_FILE = "nsfwjs_mobilenet_v2.onnx"
SIZE = 224
EXTRA = "pip install onnxruntime  (or: pip install 'restyle[onnx]')"


def model_path() -> Path:
    return Path(str(resources.files("restyle.moderators").joinpath("models", MODEL_FILE)))


def check_thresholds(thresholds: dict[str, float]) -> dict[str, float]:
    for name, value in thresholds.items():
        if name not in CLASSES:
            msg = f"nsfw threshold for unknown class {name!r}; classes: {', '.join(CLASSES)}"
            raise ValueError(msg)
        if not 0.0 < value <= 1.0:
            msg = f"nsfw threshold {name}={value} must be in (0, 1]"
            raise ValueError(msg)
    return dict(thresholds)


def preprocess(image: np.ndarray) -> np.ndarray:
    """RGB uint8 H×W×3 → float32 [1, 224, 224, 3] in 0..1 (area downscale, bilinear upscale)."""
    h, w = image.shape[:2]
    interp = cv2.INTER_AREA if h >= SIZE and w >= SIZE else cv2.INTER_LINEAR
    small = cv2.resize(image, (SIZE, SIZE), interpolation=interp)
    return (small.astype(np.float32) * (1.0 / 255.0))[None]


class Classifier:
    """The ONNX session; one per process, thread-safe (onnxruntime sessions may run concurrently)."""

    def __init__(self, path: Path | None = None, *, threads: int = 1) -> None:
        self.session = onnx_sessions.session(
            str(path or model_path()), threads=threads, device="cpu", user="moderator nsfw"
        )

    def scores(self, image: np.ndarray) -> dict[str, float]:
        probs = self.session.run(["probs"], {"input": preprocess(image)})[0][0]
        return {name: float(p) for name, p in zip(CLASSES, probs, strict=True)}


_shared: dict[tuple[str, int], Classifier] = {}
_shared_lock = threading.Lock()


def shared_classifier(path: Path | None = None, *, threads: int = 1) -> Classifier:
    key = (str(path or model_path()), threads)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Classifier(path, threads=threads)
        return _shared[key]


class Moderator(BaseModerator):
    """Images only: refused when a class probability reaches its threshold."""

    name = "nsfw"

    def __init__(self, thresholds: dict[str, float] | None = None, *, threads: int = 1) -> None:
        self.thresholds = check_thresholds(DEFAULT_THRESHOLDS if thresholds is None else thresholds)
        self.classifier = shared_classifier(threads=threads)

    @classmethod
    def from_settings(cls, settings: Settings) -> Moderator:
        return cls(settings.nsfw_thresholds, threads=settings.nsfw_threads)

    def check_text(self, fields: dict[str, str]) -> None:
        return None

    def verdict(self, image: np.ndarray) -> tuple[str, float] | None:
        """(category, score) of the most confident class over its threshold, or None."""
        scores = self.classifier.scores(image)
        over = [(name, scores[name]) for name, limit in self.thresholds.items() if scores[name] >= limit]
        return max(over, key=lambda item: item[1]) if over else None

    def check_image(self, image: U8, stage: Stage) -> None:
        found = self.verdict(image)
        if found is None:
            return
        category, score = found
        if stage == "input":
            msg = f"The input image did not pass image moderation (stage: input, category: {category}, score {score:.2f})."
            raise errors.ImageIllegalDetected(msg)
        msg = f"The generated image did not pass image moderation (stage: output, category: {category}, score {score:.2f}); retry."
        raise errors.GenerateImageFailed(msg)


class WordlistAndNsfw(Moderator):
    """``wordlist+nsfw``: term lists for Prompt/NegativePrompt, the classifier for images."""

    name = "wordlist+nsfw"

    def __init__(
        self,
        thresholds: dict[str, float] | None = None,
        *,
        threads: int = 1,
        extra_terms: Path | None = None,
    ) -> None:
        super().__init__(thresholds, threads=threads)
        self.text = wordlist_moderator.Moderator(extra_terms)

    @classmethod
    def from_settings(cls, settings: Settings) -> WordlistAndNsfw:
        return cls(
            settings.nsfw_thresholds, threads=settings.nsfw_threads, extra_terms=settings.blocked_terms_file
        )

    def check_text(self, fields: dict[str, str]) -> None:
        self.text.check_text(fields)


def scores(image: np.ndarray) -> dict[str, Any]:
    """Class probabilities of one RGB image (for scripts and ``restyle doctor``-style checks)."""
    return shared_classifier().scores(image)
