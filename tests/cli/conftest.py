"""Folders of real LFW photos, written as PNG files, for the command line's verbs."""

import numpy as np
import pytest
from PIL import Image


def _save(images, labels, indices, root):
    for i in indices:
        folder = root / ("face" if labels[i] else "not_face")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((images[i] * 255).astype(np.uint8)).save(folder / f"{i}.png")


@pytest.fixture(scope="module")
def face_folder(tmp_path_factory, lfw):
    """12 real LFW images (6 faces, 6 non-faces) as root/<label>/<n>.png."""
    root = tmp_path_factory.mktemp("faces")
    images, labels = lfw
    _save(images, labels, [*range(0, 60, 10), *range(100, 160, 10)], root)
    return root


@pytest.fixture(scope="module")
def face_splits(tmp_path_factory, lfw):
    """root/train/<label>/ (24 + 24 images) and root/test/<label>/ (10 + 10)."""
    root = tmp_path_factory.mktemp("splits")
    images, labels = lfw
    order = np.random.default_rng(0).permutation(100)
    faces, others = order, order + 100
    _save(images, labels, [*faces[:24], *others[:24]], root / "train")
    _save(images, labels, [*faces[24:34], *others[24:34]], root / "test")
    return root
