"""Shared, seeded fixtures: real photos from scikit-image written as real files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

PHOTOS = ("chelsea", "coffee", "rocket", "astronaut", "immunohistochemistry", "hubble_deep_field")


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def feature_atol() -> float:
    """How closely two runs of a backbone agree when only the batch size differs.

    CUDA convolutions run in TF32 by default (``torch.backends.cudnn.allow_tf32``) and cuDNN
    picks its algorithm per batch size: on a GPU features agree to about 1e-3 (2.7e-3 at most,
    seen on an H100), on the CPU to float32 rounding.
    """
    return 5e-3 if torch.cuda.is_available() else 1e-5


@pytest.fixture
def malicious_weights(tmp_path) -> tuple[Path, Path]:
    """A torch file whose unpickling would create ``marker``: ``(path, marker)``."""
    import os

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pth"
    torch.save({"weight": torch.zeros(1), "payload": Payload()}, path)
    return path, marker


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    """Real RGB photos shipped with scikit-image, by name."""
    return {name: getattr(data, name)() for name in PHOTOS}


@pytest.fixture(scope="session")
def photo_files(tmp_path_factory, photos) -> list[Path]:
    """The photos saved as JPEG files at their natural size (300-512 px)."""
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for name, pixels in photos.items():
        path = folder / f"{name}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def small_photos(photos):
    """Real photos reduced to about 128 px: quick to featurize, still real content."""
    return [
        np.asarray(Image.fromarray(p).resize((128, 128 * p.shape[0] // p.shape[1])))
        for p in photos.values()
    ]


@pytest.fixture(scope="session")
def lfw() -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's LFW subset: 100 faces and 100 non-faces, 25x25 gray, floats in [0, 1]."""
    images = data.lfw_subset()
    labels = np.array([1] * 100 + [0] * 100)
    return images, labels


@pytest.fixture(scope="session")
def default_featurizer():
    """A fitted default featurizer (real bundled ImageNet weights), shared by read-only tests."""
    from sktransfer import PretrainedImageFeaturizer

    return PretrainedImageFeaturizer(progress=False).fit([])


@pytest.fixture
def forward_batches(monkeypatch) -> list[int]:
    """The size of every batch the featurizer's network computes from here on."""
    from sktransfer import PretrainedImageFeaturizer

    seen = []
    forward = PretrainedImageFeaturizer._forward

    def counting(self, extractor, batch):
        seen.append(len(batch))
        return forward(self, extractor, batch)

    monkeypatch.setattr(PretrainedImageFeaturizer, "_forward", counting)
    return seen


@pytest.fixture(scope="session")
def sms():
    """The SMS Spam Collection (5,574 real messages, 13% spam), installed with sktransfer."""
    from sktransfer.datasets import load_sms_spam

    return load_sms_spam()


@pytest.fixture(scope="session")
def glove():
    """The bundled GloVe 6B 50-d vectors (real, 400k words, memory-mapped)."""
    from sktransfer.text import load_vectors

    return load_vectors()


@pytest.fixture(scope="session")
def mnist() -> tuple[np.ndarray, np.ndarray]:
    """The first 2,000 real 28x28 digits of the MNIST test set, installed with sktransfer."""
    from sktransfer.datasets import load_mnist_sample

    return load_mnist_sample()


# Class-per-folder trees of real LFW photos, for the command line's verbs.


def _save_lfw(images, labels, indices, root):
    for i in indices:
        folder = root / ("face" if labels[i] else "not_face")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((images[i] * 255).astype(np.uint8)).save(folder / f"{i}.png")


@pytest.fixture(scope="session")
def face_folder(tmp_path_factory, lfw):
    """12 real LFW images (6 faces, 6 non-faces) as root/<label>/<n>.png."""
    root = tmp_path_factory.mktemp("faces")
    images, labels = lfw
    _save_lfw(images, labels, [*range(0, 60, 10), *range(100, 160, 10)], root)
    return root


@pytest.fixture(scope="session")
def face_splits(tmp_path_factory, lfw):
    """root/train/<label>/ (24 + 24 images) and root/test/<label>/ (10 + 10)."""
    root = tmp_path_factory.mktemp("splits")
    images, labels = lfw
    order = np.random.default_rng(0).permutation(100)
    faces, others = order, order + 100
    _save_lfw(images, labels, [*faces[:24], *others[:24]], root / "train")
    _save_lfw(images, labels, [*faces[24:34], *others[24:34]], root / "test")
    return root
