"""All-or-nothing training: an interrupted or failed fit leaves the estimator as it was."""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Iterator
from typing import Any

__all__ = ["all_or_nothing"]

logger = logging.getLogger("sktransfer")


@contextlib.contextmanager
def all_or_nothing(estimator: Any) -> Iterator[None]:
    """Run a ``fit`` or ``partial_fit``; if it raises or is interrupted, undo it and re-raise.

    skorch's ``partial_fit`` swallows a KeyboardInterrupt and returns a net stopped in the
    middle of an epoch; the sktransfer nets flag that (``interrupted_``) and it is raised
    again here. On any exception the estimator's attributes are put back as they were
    before the call: an interrupted or failed first ``fit`` leaves it unfitted (never with
    a half-trained ``net_`` that would predict), a refit keeps the previous model, and a
    ``partial_fit`` restores the weights, optimizer state and history of the last completed
    epoch. The exception then propagates, so a grid search stops on Ctrl-C too.
    """
    before = dict(vars(estimator))
    net = before.get("net_")
    saved = None
    if net is not None and getattr(net, "initialized_", False):
        saved = copy.deepcopy((net.module_.state_dict(), net.optimizer_.state_dict(), net.history))
    try:
        yield
        if getattr(vars(estimator).get("net_"), "interrupted_", False):
            raise KeyboardInterrupt
    except BaseException as exc:
        vars(estimator).clear()
        vars(estimator).update(before)
        if saved is not None:
            weights, optimizer, history = saved
            net.module_.load_state_dict(weights)
            net.optimizer_.load_state_dict(optimizer)
            net.history = estimator.history_ = history
            net.interrupted_ = False
        if isinstance(exc, KeyboardInterrupt):
            logger.warning(
                "%s interrupted; it is left as it was before this call.",
                type(estimator).__name__,
            )
        raise
