"""Fuzz the decoder with mutated real images (bounded: a few hundred examples, ~10 s).

Every input must decode or be refused with a TencentError; anything else is saved to the crash
corpus (tests/fuzz/corpus.py) and fails the test.
"""

from __future__ import annotations

import functools
import io
import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from restyle import imaging
from tests.conftest import photo
from tests.fuzz.corpus import decode_all, image_ext, only_tencent_errors


@functools.cache
def seeds() -> list[bytes]:
    """Small real files in every allowed format and several modes."""
    img = Image.fromarray(photo("coffee", (72, 56)))
    out = []
    for fmt, kw in (
        ("JPEG", {"quality": 80}),
        ("JPEG", {"quality": 80, "progressive": True}),
        ("PNG", {}),
        ("WEBP", {"quality": 60}),
        ("WEBP", {"lossless": True}),
        ("TIFF", {"compression": "tiff_deflate"}),
        ("TIFF", {"compression": "tiff_lzw"}),
        ("BMP", {}),
    ):
        buf = io.BytesIO()
        img.save(buf, format=fmt, **kw)
        out.append(buf.getvalue())
    for mode in ("P", "LA", "I;16", "CMYK"):
        buf = io.BytesIO()
        fmt = "JPEG" if mode == "CMYK" else ("TIFF" if mode == "I;16" else "PNG")
        src = img.convert("L") if mode == "I;16" else img
        src.convert(mode).save(buf, format=fmt)
        out.append(buf.getvalue())
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes())
    out.append(buf.getvalue())
    return out


Mutation = tuple[str, int, bytes]

mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "set", "insert", "delete", "truncate", "repeat"]),
        st.integers(0, 1 << 20),
        st.binary(min_size=1, max_size=16),
    ),
    min_size=1,
    max_size=6,
)


def mutate(data: bytes, ops: list[Mutation]) -> bytes:
    buf = bytearray(data)
    for op, pos, val in ops:
        if not buf:
            break
        # header bytes are where decoders branch: bias half the positions into the first 64 bytes
        i = pos % min(len(buf), 64) if pos & 1 else pos % len(buf)
        if op == "flip":
            buf[i] ^= val[0] or 0xFF
        elif op == "set":
            buf[i : i + len(val)] = val
        elif op == "insert":
            buf[i:i] = val
        elif op == "delete":
            del buf[i : i + val[0] % 32 + 1]
        elif op == "truncate":
            del buf[max(1, i) :]
        elif op == "repeat":
            buf[i:i] = buf[i : i + val[0] % 64 + 1] * (val[-1] % 4 + 1)
    return bytes(buf)


@settings(
    max_examples=int(os.environ.get("RESTYLE_FUZZ_EXAMPLES", "600")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(0, 100), ops=mutations)
def test_mutated_images_decode_or_are_refused(seed: int, ops: list[Mutation]) -> None:
    base = seeds()[seed % len(seeds())]
    data = mutate(base, ops)
    only_tencent_errors(lambda: decode_all(data), data, image_ext(data))


@settings(max_examples=int(os.environ.get("RESTYLE_FUZZ_EXAMPLES", "600")) // 4, deadline=None, database=None)
@given(
    st.binary(min_size=0, max_size=2048),
    st.sampled_from(
        [
            b"",
            b"\xff\xd8\xff",
            b"\x89PNG\r\n\x1a\n",
            b"II*\x00",
            b"MM\x00*",
            b"BM",
            b"RIFF\x00\x00\x00\x00WEBP",
        ]
    ),
)
def test_random_bytes_behind_each_magic(tail: bytes, magic: bytes) -> None:
    data = magic + tail
    only_tencent_errors(lambda: decode_all(data), data, image_ext(data))


def test_seeds_decode() -> None:
    for data in seeds():
        arr = imaging.decode(data)
        assert arr.dtype == np.uint8 and arr.shape[2] == 3
