"""Typed arrays for the plugin APIs: the canonical image, said in the type.

``U8``: an image, RGB uint8 H×W×3, C-contiguous (a logo: RGBA H×W×4). numpy's typing cannot say the
shape; the docstrings of the plugin base classes do. ``F32``: masks and weights in [0, 1].
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

U8 = NDArray[np.uint8]
F32 = NDArray[np.float32]
