"""Whether a collection holds images or texts."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ._images import as_sample_list
from ._texts import as_text_list

__all__ = ["samples_and_kind"]


def samples_and_kind(X: Any, kind: str = "auto") -> tuple[list, str]:
    """The samples of ``X`` as a list, and whether they are "image"s or "text"s.

    ``kind="auto"`` reads strings as image paths when every one names an existing file and
    as texts when none does (a mix raises a ValueError naming one of each); arrays, bytes,
    PIL images and path objects are images.
    """
    if kind == "text":
        return as_text_list(X), "text"
    samples = as_sample_list(X)
    if kind == "image":
        return samples, "image"
    strings = [s for s in samples if isinstance(s, str)]
    if len(strings) < len(samples):  # arrays, PIL images, Path objects or missing texts
        if any(isinstance(s, (np.ndarray, bytes, os.PathLike)) for s in samples) or not strings:
            return samples, "image"
        return as_text_list(X), "text"
    files = [os.path.isfile(s) for s in strings]
    if all(files) and files:
        return samples, "image"
    if not any(files):
        return samples, "text"
    first = files.index(not files[0])
    raise ValueError(
        f"Cannot tell whether X holds image paths or texts: sample 0 ({strings[0][:60]!r}) "
        f"{'is' if files[0] else 'is not'} an existing file but sample {first} "
        f"({strings[first][:60]!r}) {'is' if files[first] else 'is not'}. "
        "Pass kind='image' or kind='text'."
    )
