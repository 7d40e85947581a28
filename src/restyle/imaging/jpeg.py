"""A JPEG's structure read without decoding it: frame size, scans, and entropy-coded bytes.

Two attacks are refused from the structure alone, before libjpeg spends any time on pixels:

- **scan bombs**: a progressive JPEG may repeat a refinement scan thousands of times; every scan
  walks the whole coefficient buffer inside one libjpeg call that nothing can interrupt (15-80 ms
  per scan at 4992², so 8000 scans held a compute slot for minutes). Like djpeg's ``-maxscans``, the
  scans are counted first: more than ``max_scans`` (64), or more scan work than ``max_scan_pixels``
  (scans × width × height, 24 full scans of the largest image allowed), is ImageDecodeFailed. This
  is the per-image decode budget: within it the worst JPEG costs about 2.5 normal decodes.
  Encoders write 1 scan (sequential) or about 10 (libjpeg's progressive script; mozjpeg's
  optimised scripts stay under 20).
- **mostly missing data**: libjpeg fills whatever the file does not hold with grey and only warns,
  so a header claiming 4990² followed by 2 KB of data decoded as a grey image. With Huffman coding
  every 8×8 block of every component costs at least one bit in the DC scan, so a frame of ``B``
  blocks needs at least ``B / 8`` bytes of entropy-coded data; a file with less is truncated.
  (Arithmetic coding has no such floor; it is rare, and left to libjpeg.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from restyle import errors

#: SOFn markers: every C0..CF except DHT (C4), JPG (C8) and DAC (CC)
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
#: Huffman-coded DCT frames (baseline, extended, progressive): the one-bit-per-block floor holds
_HUFFMAN_DCT = frozenset({0xC0, 0xC1, 0xC2})
_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}  # RSTn, TEM: no length field
_EOI = 0xD9
_SOS = 0xDA

#: more scans than this are refused (libjpeg's progressive script has 10; mozjpeg's stay under 20)
MAX_SCANS = 64
#: scans × width × height: 24 scans of a 5000² frame (small images may use up to MAX_SCANS)
MAX_SCAN_PIXELS = 24 * 5000 * 5000


@dataclass
class JpegStructure:
    sof: int | None = None  # the SOFn marker byte
    width: int = 0
    height: int = 0
    sampling: list[tuple[int, int]] = field(default_factory=list)  # (h, v) per component
    scans: int = 0
    entropy_bytes: int = 0  # bytes between each SOS header and the next marker
    complete: bool = False  # EOI reached

    def min_entropy_bytes(self) -> int:
        """The fewest entropy-coded bytes a Huffman-coded frame of this size can have (1 bit per block)."""
        if not self.sampling or not self.width or not self.height:
            return 0
        hmax = max(h for h, _ in self.sampling) or 1
        vmax = max(v for _, v in self.sampling) or 1
        blocks = 0
        for h, v in self.sampling:
            cw = -(-self.width * h // hmax)
            ch = -(-self.height * v // vmax)
            blocks += -(-cw // 8) * -(-ch // 8)
        return blocks // 8


def _entropy_end(data: bytes, pos: int) -> int:
    """Index of the marker that ends the entropy-coded segment starting at ``pos`` (or len(data))."""
    n = len(data)
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= n:
            return n
        nxt = data[pos + 1]
        if nxt == 0x00 or 0xD0 <= nxt <= 0xD7:  # stuffed 0xFF, or a restart marker inside the scan
            pos += 2
            continue
        return pos  # a marker (possibly after fill bytes)


def scan_limit(width: int, height: int, max_scans: int, max_scan_pixels: int) -> int:
    """How many scans a frame of this size may have."""
    return min(max_scans, max_scan_pixels // max(1, width * height))


def read_structure(
    data: bytes, *, max_scans: int | None = None, max_scan_pixels: int | None = None
) -> JpegStructure:
    """Walk the markers of ``data`` (which starts with SOI).

    With limits, stops as soon as the scans counted exceed what the frame may have (so a file of a
    million tiny scans costs no more to refuse than one over the limit)."""
    info = JpegStructure()
    limit: int | None = max_scans
    n = len(data)
    pos = 2
    while pos + 1 < n:
        if data[pos] != 0xFF:
            return info  # garbage between segments: libjpeg decides
        while pos + 1 < n and data[pos + 1] == 0xFF:  # fill bytes
            pos += 1
        if pos + 1 >= n:
            return info
        marker = data[pos + 1]
        pos += 2
        if marker in _STANDALONE:
            continue
        if marker == _EOI:
            info.complete = True
            return info
        if pos + 2 > n:
            return info
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2:
            return info
        segment = data[pos + 2 : pos + length]
        pos += length
        if marker in _SOF and info.sof is None and len(segment) >= 6:
            info.sof = marker
            info.height = int.from_bytes(segment[1:3], "big")
            info.width = int.from_bytes(segment[3:5], "big")
            count = segment[5]
            comps = segment[6 : 6 + 3 * count]
            info.sampling = [(b >> 4, b & 0x0F) for b in comps[1::3]]
            if max_scans is not None and max_scan_pixels is not None:
                limit = scan_limit(info.width, info.height, max_scans, max_scan_pixels)
        elif marker == _SOS:
            info.scans += 1
            if limit is not None and info.scans > limit:
                return info
            end = _entropy_end(data, pos)
            info.entropy_bytes += end - pos
            pos = end
    return info


def check(data: bytes, max_scans: int = MAX_SCANS, max_scan_pixels: int = MAX_SCAN_PIXELS) -> JpegStructure:
    """Refuse scan bombs and mostly-missing files with ImageDecodeFailed; return the structure."""
    info = read_structure(data, max_scans=max_scans, max_scan_pixels=max_scan_pixels)
    limit = scan_limit(info.width, info.height, max_scans, max_scan_pixels)
    if info.scans > limit:
        msg = (
            f"The JPEG has more than {limit} scans; restyle decodes at most {limit} at "
            f"{info.width}x{info.height} px (encoders write 1 to about 20)."
        )
        raise errors.ImageDecodeFailed(msg)
    if info.sof in _HUFFMAN_DCT and info.entropy_bytes < info.min_entropy_bytes():
        msg = (
            f"The JPEG is truncated: its frame is {info.width}x{info.height} px but it holds only "
            f"{info.entropy_bytes} bytes of image data (at least {info.min_entropy_bytes()} are needed)."
        )
        raise errors.ImageDecodeFailed(msg)
    return info
