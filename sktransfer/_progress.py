"""The progress bar behind every estimator's ``progress`` parameter."""

from __future__ import annotations

from tqdm.auto import tqdm

__all__ = ["progress_bar"]


def progress_bar(progress: bool | str, total: int, *, unit: str, desc: str) -> tqdm:
    """A tqdm bar for ``progress`` True, False or "auto" (shown when stderr is a terminal).

    With nothing to do there is no bar: an empty one per call (per fold, under
    cross-validation with a warm cache) is only noise.
    """
    disable = True if not total else (None if progress == "auto" else not progress)
    return tqdm(total=total, unit=unit, desc=desc, disable=disable)
