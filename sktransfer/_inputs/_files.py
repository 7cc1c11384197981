"""Reading files that callers and model files name: regular files only, sizes known first.

A path can name a FIFO (whose plain ``open`` waits for a writer forever), a device such as
``/dev/zero`` (which never ends) or a huge sparse file. Everything sktransfer reads from a
path it did not create goes through :func:`open_regular_file`, which refuses the first two
before a byte is read and lets the caller check the size on the open descriptor, with no
race between the check and the read.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

__all__ = ["image_endings", "is_hidden", "list_images", "open_regular_file", "same_path"]


def open_regular_file(path: str | os.PathLike, max_size: int | None = None) -> io.BufferedReader:
    """Open ``path`` for binary reading if it is a regular file; raise otherwise.

    The file is opened without blocking and checked on its descriptor (``fstat``), so a
    FIFO or a device is refused at once. ``max_size`` refuses a larger file with a
    ValueError before reading it.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(f"{os.fspath(path)!r} is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(
                f"{os.fspath(path)!r} is not a regular file (a FIFO, socket or device); "
                "only regular files are read"
            )
        if max_size is not None and info.st_size > max_size:
            raise ValueError(
                f"{os.fspath(path)!r} has {info.st_size} bytes; at most {max_size} are read"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def same_path(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file: the same resolved path, or the same inode."""
    a, b = os.path.realpath(os.path.expanduser(a)), os.path.realpath(os.path.expanduser(b))
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def image_endings(extensions: tuple[str, ...] | None) -> tuple[str, ...]:
    """Lowercased file endings taken as images: ``extensions``, or torchvision's."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    return tuple(e.lower() for e in (extensions or IMG_EXTENSIONS))


def list_images(
    folder: str | os.PathLike,
    *,
    extensions: tuple[str, ...] | None = None,
    recursive: bool = False,
) -> list[str]:
    """The image files in ``folder`` (by extension, hidden files and folders left out), sorted.

    Only the files directly in it, or with ``recursive`` those in its subfolders too.
    """
    endings = image_endings(extensions)
    root = Path(folder)
    return sorted(
        str(f)
        for f in (root.rglob("*") if recursive else root.iterdir())
        if f.is_file() and f.name.lower().endswith(endings) and not is_hidden(f, root)
    )


def is_hidden(file: Path, root: Path) -> bool:
    """Whether ``file`` or a folder between it and ``root`` is hidden (``.name``)."""
    return any(part.startswith(".") for part in file.relative_to(root).parts)
