"""Exceptions and warnings raised by sktransfer.

Every error the package raises on purpose derives from :class:`SktransferError`, so
``except SktransferError`` catches them all; each also derives from the built-in type a
caller would naturally catch (``ValueError``, ``FileNotFoundError``, ...).
"""

from __future__ import annotations

__all__ = [
    "ImageLoadError",
    "ModelFileError",
    "OutOfVocabularyError",
    "SktransferError",
    "SktransferWarning",
    "UnknownBackboneError",
    "UnknownVectorsError",
    "UntrustedFileError",
    "UntrustedTypesError",
    "VectorsFormatError",
    "VectorsNotFoundError",
    "WeightsNotFoundError",
]


class SktransferError(Exception):
    """Base class of the errors raised by sktransfer."""


class UnknownBackboneError(SktransferError, ValueError):
    """A backbone name (or layer name) that the registry does not know."""


class WeightsNotFoundError(SktransferError, FileNotFoundError):
    """Pretrained weights are neither bundled, at the given path, cached, nor downloadable."""


class UnknownVectorsError(SktransferError, ValueError):
    """A word-vectors name that is neither bundled, a gensim-data model, nor an existing file."""


class VectorsNotFoundError(SktransferError, FileNotFoundError):
    """Word vectors that are neither at the given path, cached, nor downloadable."""


class VectorsFormatError(SktransferError, ValueError):
    """A file that could not be read as word2vec, GloVe, fastText or gensim vectors."""


class ModelFileError(SktransferError, ValueError):
    """A file that is not a model written by :func:`sktransfer.io.save` (or skops)."""


class UntrustedTypesError(SktransferError, ValueError):
    """A saved model holds types that :func:`sktransfer.io.load` does not trust by default.

    Attributes
    ----------
    types : list of str
        The fully qualified names of the untrusted types.
    """

    def __init__(self, file: str, types: list[str]):
        self.types = list(types)
        super().__init__(
            f"{file} holds types that are not trusted by default: {', '.join(self.types)}. "
            "Loading them may run their code; if you trust the file's author, pass "
            "trusted=[...] with these names to sktransfer.io.load."
        )


class UntrustedFileError(ModelFileError):
    """A loaded model names a file it may not open, so :func:`sktransfer.io.load` refuses it.

    Attributes
    ----------
    estimator, parameter : str
        The estimator class and its parameter that name the file.
    value : str
        The file, folder, URL or downloadable name.
    """

    def __init__(self, file: str, estimator: str, parameter: str, value, reason: str):
        self.estimator, self.parameter, self.value = estimator, parameter, str(value)
        if reason == "pickle":
            why = (
                "is in a gensim pickle format, which runs code when loaded; pass "
                "trusted=True to sktransfer.io.load only if you trust the model file's author"
            )
        else:
            why = (
                "the caller did not list; the model was not loaded. If you trust it, pass "
                f"files=[{self.value!r}] to sktransfer.io.load"
            )
        super().__init__(f"{file}: {estimator}.{parameter} names {self.value!r}, which {why}.")


class OutOfVocabularyError(SktransferError, ValueError):
    """Tokens without a word vector, under ``oov="error"``.

    Attributes
    ----------
    index : int
        Position of the first document with such tokens.
    tokens : list of str
        Its tokens that have no vector.
    """

    def __init__(self, index: int, tokens: list[str], n_documents: int):
        self.index = index
        self.tokens = list(tokens)
        shown = ", ".join(repr(t) for t in self.tokens[:10])
        more = f" and {len(self.tokens) - 10} more" if len(self.tokens) > 10 else ""
        others = f" ({n_documents - 1} other documents have some too)" if n_documents > 1 else ""
        super().__init__(
            f"document {index} has tokens without a word vector: {shown}{more}{others}. "
            "Pass oov='ignore' to skip unknown tokens."
        )


class ImageLoadError(SktransferError, ValueError):
    """One or more input samples could not be decoded into an image.

    Attributes
    ----------
    failures : list of (int, str, str)
        ``(index, description of the sample, reason)`` for every sample that failed.

    ``hint`` ends the message: what the raiser lets its caller do about the failures
    (by default, fix or drop them).
    """

    def __init__(
        self, failures: list[tuple[int, str, str]], hint: str = "Fix or drop these samples."
    ):
        self.failures = list(failures)
        lines = [f"  sample {i} ({what}): {why}" for i, what, why in self.failures[:20]]
        if len(self.failures) > 20:
            lines.append(f"  ... and {len(self.failures) - 20} more")
        n = len(self.failures)
        super().__init__(
            f"{n} sample{'s' if n != 1 else ''} could not be loaded as an image:\n"
            + "\n".join(lines)
            + f"\n{hint}"
        )


class SktransferWarning(UserWarning):
    """Warnings issued by sktransfer (failed samples under on_error='warn', cache problems)."""
