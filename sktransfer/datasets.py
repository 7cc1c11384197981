"""Real datasets for the examples, tests and benchmarks, and :func:`load_image_folder` for the
user's own class-per-folder image trees.

The ``load_*`` functions read data installed with sktransfer (no network, no folder): the
whole SMS Spam Collection and the first 2,000 digits of the MNIST test set. Each
``fetch_*`` function looks in ``data_home`` (scikit-learn's data folder by default,
``~/scikit_learn_data`` or ``$SCIKIT_LEARN_DATA``), downloads the files there once when
they are missing, and checks what it downloads. Offline, a folder that already holds the
files works as is.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import os
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import get_data_home

from ._inputs import image_endings, is_hidden

__all__ = [
    "blend_onto_photos",
    "fetch_mnist_test",
    "fetch_sms_spam",
    "load_image_folder",
    "load_mnist_sample",
    "load_sms_spam",
]

logger = logging.getLogger("sktransfer")

SPLIT_NAMES = frozenset({"train", "training", "val", "valid", "validation", "dev", "test"})

SMS_URL = "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip"
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_MD5 = {
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


_BUNDLED = Path(__file__).parent / "_data"


def load_sms_spam() -> pd.DataFrame:
    """The SMS Spam Collection, installed with sktransfer: 5,574 real messages, 747 spam.

    Almeida & Gómez Hidalgo (2011), "Contributions to the study of SMS spam filtering",
    UCI Machine Learning Repository, CC BY 4.0; the file ``SMSSpamCollection`` byte for
    byte, gzipped. It holds 403 exact repeats of earlier messages and many templated near
    copies: split it with :class:`~sktransfer.model_selection.LeakageSafeKFold`.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``label`` ("ham" or "spam") and ``text``, in the file's order.

    Examples
    --------
    >>> from sktransfer.datasets import load_sms_spam
    >>> sms = load_sms_spam()
    >>> sms.shape, sms["label"].value_counts().to_dict()
    ((5574, 2), {'ham': 4827, 'spam': 747})
    """
    return _read_sms(_BUNDLED / "sms_spam.tsv.gz")


def load_mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """The first 2,000 digits of the MNIST test set, installed with sktransfer.

    LeCun, Cortes & Burges, the MNIST database of handwritten digits, CC BY-SA 3.0: the
    first 2,000 images and labels of ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``
    (every class 175 to 234 times). :func:`fetch_mnist_test` gets all 10,000.

    Returns
    -------
    images : ndarray of shape (2000, 28, 28), dtype uint8
    labels : ndarray of shape (2000,), dtype uint8

    Examples
    --------
    >>> from sktransfer.datasets import load_mnist_sample
    >>> images, labels = load_mnist_sample()
    >>> images.shape, labels[:5].tolist()
    ((2000, 28, 28), [7, 2, 1, 0, 4])
    """
    with np.load(_BUNDLED / "mnist_t10k_first2000.npz") as data:
        return data["images"], data["labels"]


def blend_onto_photos(
    images: np.ndarray, backgrounds: list | None = None, *, random_state: Any = None
) -> np.ndarray:
    """Grayscale images blended onto random patches of colour photos: a real domain shift.

    The MNIST-M construction of Ganin & Lempitsky (2015): each output pixel is
    ``|patch - image|`` per colour channel, for a patch of the image's size cut at random
    from a random photo, so the strokes keep their shape while colour and texture come
    from the photos. A model trained on the plain images (the source domain) loses much of
    its accuracy on the blended ones (the target domain).

    Parameters
    ----------
    images : ndarray of shape (n_samples, height, width), dtype uint8
        E.g. digits from :func:`load_mnist_sample`.
    backgrounds : list of ndarray of shape (h, w, 3), default=None
        The photos, each at least as large as the images; by default the colour photos
        of scikit-image (``astronaut``, ``coffee``, ``chelsea``, ``rocket``,
        ``immunohistochemistry`` and the left ``stereo_motorcycle``; scikit-image is in the ``demo``
        extra).
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of photo and patch.

    Returns
    -------
    blended : ndarray of shape (n_samples, height, width, 3), dtype uint8

    Examples
    --------
    >>> from sktransfer.datasets import blend_onto_photos, load_mnist_sample
    >>> digits, labels = load_mnist_sample()
    >>> blend_onto_photos(digits[:4], random_state=0).shape
    (4, 28, 28, 3)
    """
    from sklearn.utils import check_random_state

    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"images must be grayscale uint8, shaped (n, height, width); got {images.dtype} "
            f"of shape {images.shape}."
        )
    if backgrounds is None:
        backgrounds = _skimage_photos()
    height, width = images.shape[1:]
    for i, photo in enumerate(backgrounds):
        if (
            photo.ndim != 3
            or photo.shape[2] != 3
            or photo.shape[0] < height
            or photo.shape[1] < width
        ):
            raise ValueError(
                f"backgrounds[{i}] must be an RGB photo of at least {height}x{width}; got "
                f"shape {photo.shape}."
            )
    rng = check_random_state(random_state)
    blended = np.empty((*images.shape, 3), dtype=np.uint8)
    for i, image in enumerate(images):
        photo = backgrounds[rng.randint(len(backgrounds))]
        top = rng.randint(photo.shape[0] - height + 1)
        left = rng.randint(photo.shape[1] - width + 1)
        patch = photo[top : top + height, left : left + width].astype(np.int16)
        blended[i] = np.abs(patch - image[..., None].astype(np.int16))
    return blended


def _skimage_photos() -> list[np.ndarray]:
    try:
        from skimage import data
    except ImportError as exc:
        raise ImportError(
            "The default backgrounds are scikit-image's photos: pip install "
            '"sktransfer[demo]", or pass backgrounds=.'
        ) from exc
    names = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")
    return [getattr(data, name)() for name in names] + [data.stereo_motorcycle()[0]]


def _read_sms(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", header=None, names=["label", "text"], quoting=3)


def fetch_sms_spam(
    data_home: str | Path | None = None, *, download_if_missing: bool = True
) -> pd.DataFrame:
    """The SMS Spam Collection: 5,574 real messages, 747 of them spam.

    Almeida & Gómez Hidalgo (2011), UCI Machine Learning Repository, CC BY 4.0. It holds
    403 exact repeats of earlier messages and many templated near copies.

    Parameters
    ----------
    data_home : str or path, default=None
        Folder holding ``sms_spam/SMSSpamCollection``; None: scikit-learn's data folder.
    download_if_missing : bool, default=True
        Fetch the file from the UCI repository when it is not there.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``label`` ("ham" or "spam") and ``text``.
    """
    path = Path(get_data_home(data_home)) / "sms_spam" / "SMSSpamCollection"
    if not path.is_file():
        _missing(path, download_if_missing)
        with urllib.request.urlopen(SMS_URL, timeout=60) as response:
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(archive.read("SMSSpamCollection"))
    return _read_sms(path)


def fetch_mnist_test(
    data_home: str | Path | None = None, *, download_if_missing: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST test set: 10,000 handwritten digits, 28x28 grayscale (LeCun et al.).

    Parameters
    ----------
    data_home : str or path, default=None
        Folder holding ``mnist_t10k/t10k-{images-idx3,labels-idx1}-ubyte.gz``; None:
        scikit-learn's data folder.
    download_if_missing : bool, default=True
        Fetch the files (MD5-checked) when they are not there.

    Returns
    -------
    images : ndarray of shape (10000, 28, 28), dtype uint8
    labels : ndarray of shape (10000,), dtype uint8
    """
    folder = Path(get_data_home(data_home)) / "mnist_t10k"
    for name, md5 in MNIST_MD5.items():
        path = folder / name
        if not path.is_file():
            _missing(path, download_if_missing)
            with urllib.request.urlopen(MNIST_URL + name, timeout=60) as response:
                payload = response.read()
            if hashlib.md5(payload).hexdigest() != md5:
                raise OSError(f"{MNIST_URL + name} did not match its MD5 checksum {md5}.")
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(payload)
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(folder / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels


def load_image_folder(
    path: str | os.PathLike, *, extensions: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """A class-per-folder image tree as a DataFrame of paths and labels.

    Reads the layout of torchvision's ``ImageFolder``, ``root/<label>/**/<image>``, and the
    same one level down, ``root/<split>/<label>/**/<image>``, when every folder under
    ``root`` is a split name (train, training, val, valid, validation, dev, test). Files
    are listed by extension, not opened: an unreadable image is found where it is loaded,
    by the featurizer's ``on_error`` policy. Hidden files and folders (``.DS_Store``,
    ``.ipynb_checkpoints``) are left out, as are files with other extensions, which are
    counted and logged.

    Parameters
    ----------
    path : str or path
        The root folder.
    extensions : tuple of str, default=None
        File endings taken as images (case-insensitive); None: torchvision's
        ``IMG_EXTENSIONS`` (jpg, jpeg, png, ppm, bmp, pgm, tif, tiff, webp).

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``path`` (str), ``label`` (the class folder's name) and, for the split
        layout, ``split``; rows sorted by split, label and path. ``frame.attrs["skipped"]``
        counts the files left out for their extension.

    Raises
    ------
    FileNotFoundError
        ``path`` is not a folder, or has no class folder, or a class folder has no image.
    ValueError
        Images lie directly in ``path`` or in a split folder, outside any class folder.

    Examples
    --------
    >>> from sktransfer.datasets import load_image_folder
    >>> frame = load_image_folder("photos/")  # doctest: +SKIP
    >>> frame.groupby("label").size()  # doctest: +SKIP
    """
    from torchvision.datasets.folder import make_dataset

    root = Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{str(path)!r} is not a folder.")
    endings = image_endings(extensions)
    skipped: set[str] = set()

    def is_image(file: str) -> bool:
        if is_hidden(Path(file), root):
            return False
        if file.lower().endswith(endings):
            return True
        skipped.add(file)
        return False

    def folders(parent: Path) -> list[str]:
        return sorted(e.name for e in os.scandir(parent) if e.is_dir() and e.name[0] != ".")

    def check_no_loose_images(parent: Path) -> None:
        loose = sorted(f.name for f in parent.iterdir() if f.is_file() and is_image(str(f)))
        if loose:
            raise ValueError(
                f"{len(loose)} image(s) lie directly in {str(parent)!r} (e.g. {loose[0]!r}), "
                "outside any class folder; expected <root>/<label>/<image> or "
                "<root>/<split>/<label>/<image>."
            )

    check_no_loose_images(root)
    top = folders(root)
    if not top:
        raise FileNotFoundError(
            f"No class folder in {str(path)!r}; expected <root>/<label>/<image> or "
            "<root>/<split>/<label>/<image>."
        )
    splits = top if all(name.lower() in SPLIT_NAMES for name in top) else [None]
    frames = []
    for split in splits:
        base = root / split if split else root
        if split:
            check_no_loose_images(base)
        classes = folders(base)
        if not classes:
            raise FileNotFoundError(f"No class folder in split folder {str(base)!r}.")
        try:
            samples = make_dataset(
                str(base), {c: i for i, c in enumerate(classes)}, is_valid_file=is_image
            )
        except FileNotFoundError as error:  # a class folder without images
            raise FileNotFoundError(
                f"{error} (under {str(base)!r}; image extensions: {', '.join(endings)})"
            ) from error
        frame = pd.DataFrame(
            {"path": [p for p, _ in samples], "label": [classes[i] for _, i in samples]}
        )
        if split:
            frame["split"] = split
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    frame.attrs["skipped"] = len(skipped)
    if skipped:
        logger.info(
            "load_image_folder: skipped %d non-image file(s) in %s, e.g. %s",
            len(skipped),
            root,
            min(skipped),
        )
    return frame


def _missing(path: Path, download_if_missing: bool) -> None:
    if not download_if_missing:
        raise FileNotFoundError(
            f"{path} is missing and download_if_missing=False; pass the data_home that holds "
            "it, or allow the download."
        )
