"""The environment diffusers runs in here: no hub (``HF_HUB_OFFLINE=1`` before anything loads), and the
numpy 2 copy warning its schedulers trigger kept quiet."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator


def offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("DIFFUSERS_OFFLINE", "1")


@contextlib.contextmanager
def quiet_numpy_copy_warning() -> Iterator[None]:
    """diffusers' Euler schedulers call ``np.array(tensor)``, which numpy 2 warns about (harmless)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, message="__array__ implementation")
        yield
