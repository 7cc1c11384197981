"""Fingerprints of one image: a digest of its pixels and perceptual codes.

The perceptual code is a pHash (signs of the low-frequency DCT block) taken in a canonical
frame rather than on the raw image. The frame is centred on the image's intensity centroid
and scaled by its RMS radius, measured on the deviation from the median grey level. Resizing
scales centroid and radius together, brightening scales the deviations, and cropping
background (the median level) changes neither, so all three leave the frame in place. A raw
pHash of a 28-px MNIST digit moves by 14-32 of 64 bits under a 1-3 px crop, while distinct
digits are often within 4 bits of each other (measured on ``mnist_t10k``).

A mirror image or a turn moves the frame's content, so each image also gets probe codes: its
code mirrored (the DCT of a frame flipped left to right is the DCT with the odd horizontal
frequencies negated, so no second resampling is needed) and its frame turned by +-2.5 and
+-5 degrees. Probes are matched against other images' codes only, at a tighter threshold.
"""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image
from scipy.fft import dctn

__all__ = ["CODE_BITS", "PROBES", "image_fingerprint", "perceptual_codes", "thumbnail"]

_FRAME = 64  # side of the canonical frame, in pixels
_BLOCK = 16  # low-frequency DCT block kept: 16 x 16 = 256 bits
_RADIUS = 0.25  # RMS radius of the content, as a fraction of the frame side
_WORKING_SIZE = 128  # photos are reduced (antialiased) to this before the frame is taken
# Deviations under this fraction of the 95th percentile do not place the frame: JPEG ringing
# around a digit's strokes at quality 30 reaches a fifth of the stroke contrast, and the
# percentile, unlike the largest deviation, barely moves when brightening clips highlights.
_NOISE = 0.3
_TURNS = (-5.0, 5.0, -2.5, 2.5)  # degrees; a turn of up to 5 is within 1.25 of one
_MIRROR = (-1.0) ** np.arange(_BLOCK)  # DCT-II of x[::-1] is (-1)**k times the DCT of x
CODE_BITS = _BLOCK * _BLOCK
#: Probe codes per image after its own: the mirror image, then the turns.
PROBES = 1 + len(_TURNS)


def image_fingerprint(image: Image.Image) -> tuple[bytes, np.ndarray | None]:
    """``(pixel digest, perceptual codes)`` of an RGB image.

    The digest covers the decoded pixels and the size, so a PNG re-saved from the same
    pixels matches while the file bytes differ. The codes are a boolean array of shape
    ``(1 + PROBES, CODE_BITS)``, the image's own code first, or None for a flat image,
    which has no content to compare.
    """
    digest = hashlib.blake2b(f"{image.size}".encode(), digest_size=16)
    digest.update(image.tobytes())
    return digest.digest(), perceptual_codes(image)


def perceptual_codes(image: Image.Image) -> np.ndarray | None:
    """256-bit pHash of ``image`` in its canonical frame, then its probes (module docstring)."""
    gray = image.convert("L")
    if max(gray.size) > _WORKING_SIZE:
        gray = gray.copy()
        gray.thumbnail((_WORKING_SIZE, _WORKING_SIZE), Image.Resampling.BOX)
    pixels = np.asarray(gray, dtype=np.float32)
    deviation = pixels - np.median(pixels)
    weight = np.abs(deviation)
    if weight.max() == 0:
        return None
    weight[weight < _NOISE * np.percentile(weight, 95)] = 0
    rows, cols = weight.sum(1), weight.sum(0)
    total = rows.sum()
    y = np.arange(len(rows)) + 0.5
    x = np.arange(len(cols)) + 0.5
    cy, cx = rows @ y / total, cols @ x / total
    radius = np.sqrt((rows @ (y - cy) ** 2 + cols @ (x - cx) ** 2) / total)
    scale = max(radius, 0.5) / (_RADIUS * _FRAME)  # source pixels per frame pixel
    source = Image.fromarray(deviation)
    blocks = [_block(source, cx, cy, scale, 0.0)]
    blocks.append(blocks[0] * _MIRROR)
    blocks += [_block(source, cx, cy, scale, turn) for turn in _TURNS]
    flat = np.stack(blocks).reshape(len(blocks), -1)
    return flat > np.median(flat, axis=1, keepdims=True)


def _block(source: Image.Image, cx: float, cy: float, scale: float, turn: float) -> np.ndarray:
    """Low-frequency DCT block of the frame centred on ``(cx, cy)``, turned by ``turn`` deg."""
    cos, sin = scale * np.cos(np.radians(turn)), scale * np.sin(np.radians(turn))
    half = _FRAME / 2  # frame pixel (u, v) samples source (cx, cy) + R(turn) S (u, v) - half
    frame = source.transform(
        (_FRAME, _FRAME),
        Image.Transform.AFFINE,
        (cos, -sin, cx - half * (cos - sin), sin, cos, cy - half * (sin + cos)),
        Image.Resampling.BILINEAR,
    )
    return dctn(np.asarray(frame), norm="ortho")[:_BLOCK, :_BLOCK]


def thumbnail(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """Gray ``image`` resized (bicubic, antialiased) to ``size``, centred, of unit norm.

    A thumbnail of a few pixels has too few low frequencies for a perceptual code; it is
    compared with the other images scaled down to its own size instead.
    """
    gray = image.convert("L")
    pixels = np.asarray(gray.resize(size, Image.Resampling.BICUBIC), dtype=np.float32).ravel()
    pixels -= pixels.mean()
    return pixels / max(float(np.linalg.norm(pixels)), 1e-6)
