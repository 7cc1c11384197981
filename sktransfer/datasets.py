"""Real datasets for the examples, tests and benchmarks, read from a local folder or fetched.

Each ``fetch_*`` function looks in ``data_home`` (scikit-learn's data folder by default,
``~/scikit_learn_data`` or ``$SCIKIT_LEARN_DATA``), downloads the files there once when
they are missing, and checks what it downloads. Offline, a folder that already holds the
files works as is.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import get_data_home

__all__ = ["fetch_mnist_test", "fetch_sms_spam"]

SMS_URL = "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip"
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_MD5 = {
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


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
    return pd.read_csv(path, sep="\t", header=None, names=["label", "text"], quoting=3)


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


def _missing(path: Path, download_if_missing: bool) -> None:
    if not download_if_missing:
        raise FileNotFoundError(
            f"{path} is missing and download_if_missing=False; pass the data_home that holds "
            "it, or allow the download."
        )
