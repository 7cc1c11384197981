"""A content-addressed, multi-process-safe store of feature vectors on disk.

Layout: ``<location>/sktransfer-features/<namespace>/<digest[:2]>/<digest>.f32``, where the
namespace fingerprints everything the features depend on (backbone, weights, preprocessing,
layer, pooling) and the digest is that of the input's content. Features are a pure function
of the input, so sharing entries across folds, estimators and processes cannot leak labels.

Each entry is the raw float32 vector followed by a 32-byte BLAKE2b digest of it. Entries are
written to a temporary file and renamed into place (atomic on POSIX and Windows), so readers
never see half an entry; a truncated or corrupt entry fails its digest and is recomputed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ._inputs import open_regular_file
from .exceptions import SktransferWarning

__all__ = ["FeatureCache", "fingerprint"]

logger = logging.getLogger(__name__)
_DIGEST = 32


def fingerprint(**parts: Any) -> str:
    """A stable hex fingerprint of JSON-serialisable parts."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def resolve_location(cache: Any) -> Path | None:
    """The folder behind a ``cache`` parameter: None, a path, or a ``joblib.Memory``."""
    if cache is None:
        return None
    location = getattr(cache, "location", cache)  # joblib.Memory
    return None if location is None else Path(location).expanduser()


class FeatureCache:
    """Feature vectors of one namespace, keyed by input content digests."""

    def __init__(self, location: str | os.PathLike, namespace: str):
        self.root = Path(location) / "sktransfer-features" / namespace
        self.writable = True

    def _path(self, digest: bytes) -> Path:
        key = digest.hex()
        return self.root / key[:2] / f"{key}.f32"

    def get(self, digest: bytes, dim: int) -> np.ndarray | None:
        """The stored vector, or None when missing, truncated, corrupt or of another width.

        Only a regular file of exactly the entry's size is read: a FIFO or device planted at
        an entry's path is never opened for a blocking read, and a huge file is not read.
        """
        path = self._path(digest)
        size = 4 * dim + _DIGEST
        try:
            with open_regular_file(path, max_size=size) as file:
                data = file.read(size + 1)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("Ignoring feature cache entry %s (%s); recomputing it.", path, exc)
            return None
        payload, check = data[:-_DIGEST], data[-_DIGEST:]
        if len(data) != size or hashlib.blake2b(payload, digest_size=_DIGEST).digest() != check:
            logger.warning("Ignoring corrupt feature cache entry %s; it will be recomputed.", path)
            return None
        return np.frombuffer(payload, dtype="<f4").copy()

    def put(self, digest: bytes, vector: np.ndarray) -> None:
        """Store atomically; on a read-only or broken folder, warn once and stop writing."""
        if not self.writable:
            return
        payload = np.ascontiguousarray(vector, dtype="<f4").tobytes()
        path = self._path(digest)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(payload + hashlib.blake2b(payload, digest_size=_DIGEST).digest())
            os.replace(tmp, path)
        except OSError as exc:
            self.writable = False
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            warnings.warn(
                f"Feature cache at {self.root} is not writable ({exc}); continuing without "
                "caching new features.",
                SktransferWarning,
                stacklevel=3,
            )
