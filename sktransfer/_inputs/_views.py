"""Test-time augmentation: the views of an image that featurizers and fine-tuners average.

A view is a deterministic variant of the preprocessing: where the crop sits (the center
or a corner of the resized image, as torchvision's ``FiveCrop`` after ``Resize``), whether
the crop is mirrored, or a user's callable applied to the PIL image first. Its ``key``
names it in the feature cache, so every view of every image is computed once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["TTA_SETS", "SeededAugment", "View", "resolve_views"]

_ANCHORS = {
    "original": (0.5, 0.5),
    "top_left": (0.0, 0.0),
    "top_right": (1.0, 0.0),
    "bottom_left": (0.0, 1.0),
    "bottom_right": (1.0, 1.0),
}
_CORNERS = ["original", "top_left", "top_right", "bottom_left", "bottom_right"]
#: The named sets of views ``tta`` takes, and the single views a list may name.
TTA_SETS = {
    "flip": ["original", "hflip"],
    "five_crop": _CORNERS,
    "ten_crop": _CORNERS + ["hflip" if c == "original" else f"hflip_{c}" for c in _CORNERS],
}
_NAMES = [*_CORNERS, "hflip", *(f"hflip_{c}" for c in _CORNERS[1:])]


@dataclass(frozen=True)
class View:
    """One view: ``spec`` is what the user named (a view name or a callable)."""

    spec: Any
    key: str | None  # None for the plain preprocessing: it shares the plain cache entries
    anchor: tuple[float, float] = (0.5, 0.5)
    flip: bool = False
    augment: Callable | None = None

    def transform(self, preprocessing: Any) -> Callable:
        """This view's preprocessing: an RGB PIL image to a ``(3, S, S)`` tensor."""
        base = preprocessing.transform(anchor=self.anchor)
        if not self.flip and self.augment is None:
            return base
        return _ViewTransform(base, self.flip, self.augment)


class _ViewTransform:
    def __init__(self, base: Callable, flip: bool, augment: Callable | None):
        self.base, self.flip, self.augment = base, flip, augment

    def __call__(self, image: Any) -> torch.Tensor:
        if self.augment is not None:
            image = self.augment(image)
        tensor = self.base(image)
        return tensor.flip(-1) if self.flip else tensor


def _named(name: str) -> View:
    flip = name.startswith("hflip")
    corner = name.removeprefix("hflip").removeprefix("_") or "original"
    key = None if name == "original" else name
    return View(name, key, _ANCHORS[corner], flip)


def callable_key(fn: Callable) -> str:
    """What names a callable view in the cache: its parameters, stably across processes.

    A torch module (torchvision's transforms are) by its ``repr``, which lists its
    parameters (its pickle holds tensors whose bytes vary between instances); anything
    else by joblib's hash of its pickle. Raises TypeError for what cannot be pickled.
    """
    import joblib
    import torch

    name = getattr(fn, "__qualname__", type(fn).__qualname__)
    if isinstance(fn, SeededAugment):
        return f"seeded:{callable_key(fn.augment)}:{fn.k}"
    if isinstance(fn, torch.nn.Module):
        return f"{name}:{' '.join(repr(fn).split())}"  # on one line, for the log
    return f"{name}:{joblib.hash(fn)}"


def _callable(fn: Callable, position: int) -> View:
    try:
        key = callable_key(fn)
    except Exception as exc:  # a lambda or closure: nothing stable names it in the cache
        raise TypeError(
            f"tta[{position}]={fn!r} cannot be hashed for the feature cache ({exc}); pass "
            "a picklable callable (a module-level function or a torchvision transform)."
        ) from exc
    return View(fn, f"callable:{key}", augment=fn)


def resolve_views(tta: Any) -> list[View]:
    """The views ``tta`` describes: None (the plain preprocessing), a set's name
    (``"flip"``, ``"five_crop"``, ``"ten_crop"``) or a non-empty list of view names and
    callables (PIL image to PIL image, applied before the preprocessing)."""
    if tta is None:
        return [_named("original")]
    if isinstance(tta, str):
        if tta not in TTA_SETS:
            raise ValueError(f"Unknown tta={tta!r}; expected one of {sorted(TTA_SETS)}.")
        return [_named(name) for name in TTA_SETS[tta]]
    if not isinstance(tta, (list, tuple)) or not tta:
        raise ValueError(f"tta must be None, a set's name or a non-empty list; got {tta!r}.")
    views = []
    for position, spec in enumerate(tta):
        if isinstance(spec, str):
            if spec not in _NAMES:
                raise ValueError(
                    f"Unknown view tta[{position}]={spec!r}; expected a callable or one of "
                    f"{_NAMES}."
                )
            views.append(_named(spec))
        elif callable(spec):
            views.append(_callable(spec, position))
        else:
            raise TypeError(f"tta[{position}]={spec!r} is neither a view name nor a callable.")
    return views


class SeededAugment:
    """Draw ``k`` of a random augmentation, reproducibly: a callable view for the cache.

    ``augment`` (a PIL-to-PIL transform drawing from torch's RNG, as torchvision's do) runs
    with the RNG seeded by ``k`` and the image's pixels, so the view is a pure function of
    (image, k): its frozen activations can be cached, and every epoch, fold and grid
    candidate reads the same ``k``-th draw. Draws run one at a time (torch's RNG is global);
    the caller's RNG state is restored after each.
    """

    _lock = threading.Lock()

    def __init__(self, augment: Callable, k: int):
        self.augment, self.k = augment, k

    def __call__(self, image: Any) -> Any:
        import torch

        digest = hashlib.blake2b(image.tobytes(), digest_size=8)
        digest.update(f"{image.size}:{image.mode}:{self.k}".encode())
        seed = int.from_bytes(digest.digest(), "little") >> 1
        with self._lock, torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self.augment(image)

    def __repr__(self) -> str:
        return f"SeededAugment({self.augment!r}, k={self.k})"
