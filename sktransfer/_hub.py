"""The Hugging Face hub, reached only when it is reachable."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

__all__ = ["offline_if_unreachable"]


@contextlib.contextmanager
def offline_if_unreachable() -> Iterator[None]:
    """Within this block, use only the local hub cache when the hub's host does not resolve.

    Without it, huggingface_hub retries an unreachable host for about a minute before it
    falls back to its cache (or fails).
    """
    from huggingface_hub import constants

    try:
        socket.getaddrinfo(urlparse(constants.ENDPOINT).hostname, 443)
    except OSError:
        offline, constants.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE, True
        try:
            yield
        finally:
            constants.HF_HUB_OFFLINE = offline
        return
    yield
