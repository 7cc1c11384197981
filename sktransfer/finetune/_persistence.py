"""Portable pickling of the estimators that train a skorch net."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch
from skorch.history import History

__all__ = ["NetStatePersistence"]


class NetStatePersistence:
    """Pickle a fitted ``net_`` as its module's weights (numpy arrays) and a plain history.

    The state then holds only numpy arrays and builtins, so the estimator saves with skops
    (:func:`sktransfer.io.save`) as well as pickle, carries no ``torch.save`` payload (a
    pickle inside the pickle), and loads on any device: the net is rebuilt by the subclass's
    ``_rebuild_net`` on this machine's ``device`` and gets the weights back. The optimizer's
    state is not kept; a later ``partial_fit`` starts a fresh optimizer.
    """

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # object.__getstate__ returns the live __dict__
        net = state.pop("net_", None)
        if net is not None:
            state["_net_weights"] = {
                name: value.detach().cpu().numpy()
                for name, value in net.module_.state_dict().items()
            }
            # float()/bool() of numpy scalars, so that skops needs no numpy-scalar types
            state["history_"] = json.loads(json.dumps(list(net.history), default=_plain))
        return state

    def __setstate__(self, state: dict) -> None:
        weights = state.pop("_net_weights", None)
        super().__setstate__(state)
        if weights is None:
            return
        with torch.random.fork_rng(devices=[]):  # rebuilding draws initial weights
            net = self._rebuild_net(weights).initialize()
        net.module_.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
        net.history = History(self.history_)
        self.net_ = net
        self.history_ = net.history

    def _rebuild_net(self, weights: dict[str, np.ndarray]) -> Any:
        """An uninitialized skorch net whose module has the shapes of ``weights``."""
        raise NotImplementedError


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    raise TypeError(f"history value of type {type(value).__name__} cannot be saved")
