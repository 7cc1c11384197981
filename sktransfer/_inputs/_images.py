"""Turn the many ways users hold images into RGB PIL images, one sample at a time.

Accepted samples: ``str``/``os.PathLike`` paths, raw encoded ``bytes``, ``PIL.Image.Image``,
and numpy arrays (``HxW``, ``HxWx1``, ``HxWx3``, ``HxWx4``; ``uint8``, ``uint16``, ``bool`` or
float in [0, 1]). Paths must name regular files: a FIFO or a device (``/dev/zero``) would
block or never end, so it is refused before a byte is read. A caller's PIL image is copied
before it is decoded, never changed in place. Images over PIL's
decompression-bomb limit (``Image.MAX_IMAGE_PIXELS * 2``, about 179 megapixels) are refused
from their header. Accepted containers: list, tuple, 1-D object array, ``pandas.Series``, a
one-column ``DataFrame`` or ``(n, 1)`` array (what ``ColumnTransformer`` passes), a 4-D
``NHWC`` array, and a 3-D ``NHW`` array of grayscale images.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from ._files import open_regular_file

__all__ = [
    "as_sample_list",
    "content_digest",
    "describe_sample",
    "load_failure",
    "open_rgb",
]


def as_sample_list(X: Any) -> list:
    """The samples of container ``X`` as a list (no decoding, no copy of pixel data)."""
    if isinstance(X, (str, bytes, os.PathLike, Image.Image)):
        raise TypeError(
            f"Expected a collection of images, got a single {type(X).__name__}; "
            "wrap it in a list: transform([image])."
        )
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # DataFrame
        if X.shape[1] != 1:
            raise ValueError(
                f"Expected a DataFrame with exactly one column of images, got {X.shape[1]} "
                f"columns {list(X.columns)[:5]}. Select the image column, e.g. X['path'] or "
                "ColumnTransformer([('img', featurizer, 'path')])."
            )
        return list(X.iloc[:, 0])
    if hasattr(X, "iloc"):  # Series
        return list(X)
    if isinstance(X, np.ndarray):
        if X.dtype == object:
            if X.ndim == 1 or (X.ndim == 2 and X.shape[1] == 1):
                return list(X.ravel())
            raise ValueError(
                f"Expected a 1-D object array or an (n, 1) column of images, got shape {X.shape}."
            )
        if X.ndim == 4 or X.ndim == 3:  # NHWC batch, or NHW batch of grayscale images
            return list(X)
        raise ValueError(
            f"A numeric array of shape {X.shape} is ambiguous as a collection of images: pass "
            "a 4-D (n, height, width, channels) or 3-D (n, height, width) array, or a list of "
            "images. (A 2-D array would be one image, not a collection.)"
        )
    if isinstance(X, Sequence) or hasattr(X, "__array__") or hasattr(X, "__iter__"):
        return list(X)
    raise TypeError(f"Expected a collection of images, got {type(X).__name__}.")


def describe_sample(sample: Any) -> str:
    """Short description used in error messages: the path, or the type and shape."""
    if isinstance(sample, (str, os.PathLike)):
        return f"path {os.fspath(sample)!r}"
    if isinstance(sample, np.ndarray):
        return f"ndarray shape={sample.shape} dtype={sample.dtype}"
    if isinstance(sample, Image.Image):
        return f"PIL image mode={sample.mode} size={sample.size}"
    if isinstance(sample, (bytes, bytearray, memoryview)):
        return f"{len(sample)} bytes"
    return f"{type(sample).__name__} {sample!r:.60}"


def load_failure(index: int, sample: Any, exc: BaseException) -> tuple[int, str, str]:
    """``(index, description, reason)`` of a sample that failed: an ``ImageLoadError`` entry."""
    return index, describe_sample(sample), f"{type(exc).__name__}: {exc}"


def content_digest(sample: Any) -> bytes:
    """A 32-byte digest of the sample's content: file bytes, encoded bytes or pixels.

    A path digests the file's bytes, so renaming or copying a file keeps its digest.
    """
    h = hashlib.blake2b(digest_size=32)
    if isinstance(sample, (str, os.PathLike)):
        with open_regular_file(sample) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    elif isinstance(sample, (bytes, bytearray, memoryview)):
        h.update(b"bytes:")
        h.update(sample)
    elif isinstance(sample, Image.Image):
        image = _readable(sample)
        h.update(f"pil:{image.mode}:{image.size}:".encode())
        h.update(image.tobytes())
    elif isinstance(sample, np.ndarray):
        h.update(f"array:{sample.dtype.str}:{sample.shape}:".encode())
        h.update(np.ascontiguousarray(sample).tobytes())
    else:
        raise TypeError(_type_message(sample))
    return h.digest()


def _type_message(sample: Any) -> str:
    return (
        f"unsupported sample type {type(sample).__name__}; expected a path (str or Path), "
        "encoded bytes, a PIL image or a numpy array"
    )


def center_crop_resize(
    image: Image.Image,
    size: int,
    resize_size: int,
    resample: int,
    anchor: tuple[float, float] = (0.5, 0.5),
) -> np.ndarray:
    """The center crop of ``size / resize_size`` of the shorter side, resampled to
    ``size x size``: an ``(size, size, 3)`` uint8 array.

    Equivalent to ``Resize(resize_size)`` then ``CenterCrop(size)``, but resamples only the
    crop box straight to the output size (PIL's ``resize(box=...)``): about half the work.
    Both the torch and the ONNX Runtime paths preprocess with it, so they see equal pixels.
    ``anchor`` places the crop elsewhere: ``(0, 0)`` the top-left corner, ``(1, 1)`` the
    bottom-right (torchvision's ``FiveCrop`` crops after the resize).
    """
    width, height = image.size
    crop = size * min(width, height) / resize_size  # crop side in source pixels
    left, top = (width - crop) * anchor[0], (height - crop) * anchor[1]
    box = (left, top, left + crop, top + crop)
    # np.array (not asarray) yields one writable copy, which torch.from_numpy needs.
    return np.array(image.resize((size, size), resample, box=box))


def open_rgb(sample: Any, min_size: int | None = None) -> Image.Image:
    """Decode one sample to an RGB image, EXIF orientation applied.

    ``min_size`` lets JPEG files decode at a reduced scale (PIL draft mode: DCT scaling by
    1/2, 1/4 or 1/8) while both sides stay >= ``min_size``, which is several times faster
    for photos much larger than the network input.
    """
    if isinstance(sample, np.ndarray):
        return _array_to_rgb(sample)
    if isinstance(sample, (str, os.PathLike)):
        with open_regular_file(sample) as file:  # PIL leaves a file object it is given open
            return _decode(Image.open(file), min_size)
    if isinstance(sample, (bytes, bytearray, memoryview)):
        image = Image.open(io.BytesIO(sample))
    elif isinstance(sample, Image.Image):
        image = _readable(sample)  # draft() and load() must not touch the caller's object
    else:
        raise TypeError(_type_message(sample))
    return _decode(image, min_size)


# A lazily opened PIL image reads its file on first access; two threads doing so at once
# interleave their reads ("image file is truncated"). Lazy images are copied one at a time.
_LAZY_PIL_LOCK = threading.Lock()


def _readable(image: Image.Image) -> Image.Image:
    """A caller's PIL image in a form that decoding here cannot change or race on.

    A decoded image is returned as it is: draft() does nothing to it and every step below
    returns a new image. A lazy one (not decoded yet) is copied, one at a time, so draft()
    never shrinks the caller's object and two threads never read its file at once; the copy
    is decoded at full size (draft mode applies only to files and bytes, which sktransfer
    opens itself) and keeps ``info``, so the EXIF orientation travels with it.
    """
    if not getattr(image, "tile", None):
        return image
    with _LAZY_PIL_LOCK:
        return image.copy()


def _decode(image: Image.Image, min_size: int | None) -> Image.Image:
    if min_size and image.format == "JPEG" and image.mode in ("RGB", "L"):
        # Draft keeps both sides >= the requested size; orientation is applied afterwards.
        image.draft(image.mode, (min_size, min_size))
    image = ImageOps.exif_transpose(image) if image.getexif() else image
    return _to_rgb(image)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        image.load()
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels become white, the convention of image viewers; plain
        # convert("RGB") would expose whatever colour the transparent pixels happen to hold.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode.startswith("I") or image.mode == "F":
        return _array_to_rgb(np.asarray(image))
    return image.convert("RGB")


def _array_to_rgb(array: np.ndarray) -> Image.Image:
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4))):
        raise ValueError(
            f"an image array must be (height, width) or (height, width, 1|3|4), got shape "
            f"{array.shape}"
        )
    if min(array.shape[:2]) < 1:
        raise ValueError(f"an image array must not be empty, got shape {array.shape}")
    # uint8 (h, w), (h, w, 3), (h, w, 4) arrays become L, RGB, RGBA images.
    return _to_rgb(Image.fromarray(np.ascontiguousarray(_to_uint8(array))))


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise ValueError("the image array holds NaN or infinite values")
        lo, hi = float(array.min()), float(array.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"a float image array must hold values in [0, 1], got [{lo:.4g}, {hi:.4g}]; "
                "divide 0-255 data by 255 or pass uint8"
            )
        return np.round(array * 255.0).astype(np.uint8)
    if array.dtype == np.uint16:
        return (array.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    if array.dtype.kind in "iu":
        lo, hi = int(array.min()), int(array.max())
        if lo >= 0 and hi <= 255:
            return array.astype(np.uint8)
        if lo >= 0 and hi <= 65535:  # 16-bit data held in a wider integer type
            return (array.astype(np.int64) * 255 // 65535).astype(np.uint8)
        raise ValueError(f"integer image values must lie in [0, 65535], got [{lo}, {hi}]")
    raise ValueError(f"unsupported image array dtype {array.dtype}")
