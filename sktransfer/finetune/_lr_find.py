"""The learning-rate range test (Smith, 2017; fastai's ``lr_find``) for the fine-tuners."""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval, validate_params

from .._progress import progress_bar
from ..exceptions import SktransferWarning

__all__ = ["LRFinderResult", "lr_find"]

logger = logging.getLogger("sktransfer")


@dataclass(frozen=True)
class LRFinderResult:
    """What :func:`lr_find` measured.

    Attributes
    ----------
    lrs : ndarray
        The learning rate of each training batch, rising exponentially.
    losses : ndarray
        The training loss after each batch, smoothed (an exponential moving average,
        bias-corrected).
    suggestion : float
        The rate where the smoothed loss falls fastest per decade of learning rate, before
        its lowest point (fastai's "steep" rule): where training makes the most progress
        per step. A training loss that keeps falling to ``end_lr`` (an easy head that
        fits its training batches at any rate) leaves this rule unaffected, where
        ``lr_min`` then overshoots. A loss that rises from the first batch (a sweep that
        starts too high) gives ``start_lr / 10`` and a warning.
    lr_min : float
        A tenth of the rate of the lowest smoothed loss (the older rule of thumb): the
        largest rate still safely below where training diverges, when it does.
    diverged : bool
        Whether the sweep stopped early, the loss having risen above ``diverge`` times its
        lowest value.
    seconds : float
        How long the sweep took (the frozen part's activations included).
    """

    lrs: np.ndarray
    losses: np.ndarray
    suggestion: float
    lr_min: float
    diverged: bool
    seconds: float

    def plot(self, ax: Any = None):
        """The smoothed loss against the learning rate (log scale), the suggestion marked
        (dashed) and ``lr_min`` (dotted).

        Returns
        -------
        ax : matplotlib.axes.Axes
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as error:  # an optional dependency: the "demo" extra installs it
            raise ImportError("plot needs matplotlib: pip install 'sktransfer[demo]'.") from error
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        ax.plot(self.lrs, self.losses)
        ax.set_xscale("log")
        ax.axvline(self.suggestion, color="tab:red", linestyle="--")
        ax.axvline(self.lr_min, color="tab:gray", linestyle=":")
        ax.annotate(
            f"suggested lr {self.suggestion:.1e}",
            (self.suggestion, float(np.nanmin(self.losses))),
            xytext=(5, 5),
            textcoords="offset points",
            color="tab:red",
        )
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss (smoothed)")
        return ax


@validate_params(
    {
        "estimator": [HasMethods(["_start", "_make_net"])],
        "X": "no_validation",
        "y": "no_validation",
        "start_lr": [Interval(Real, 0, None, closed="neither")],
        "end_lr": [Interval(Real, 0, None, closed="neither")],
        "num_iter": [Interval(Integral, 5, None, closed="left")],
        "smoothing": [Interval(Real, 0, 1, closed="left")],
        "diverge": [Interval(Real, 1, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def lr_find(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    start_lr: float = 1e-6,
    end_lr: float = 1.0,
    num_iter: int = 100,
    smoothing: float = 0.05,
    diverge: float = 4.0,
) -> LRFinderResult:
    """Train a copy of a fine-tuner with a learning rate rising each batch; find the best.

    The learning-rate range test: ``num_iter`` training batches (over as many epochs as
    that takes) with the rate rising exponentially from ``start_lr`` to ``end_lr``, the loss
    recorded after each. The frozen part's activations are computed once, on the
    estimator's ``cache`` when it has one (where its ``fit`` then finds them), so the
    sweep costs seconds. Discriminative rates keep their ratios: each parameter group's
    rate is the swept rate times its ratio to ``lr``. ``estimator`` itself is not changed.

    Parameters
    ----------
    estimator : fine-tuning estimator
        Any sktransfer fine-tuner (image, text or transformer; classifier or regressor),
        fitted or not: it is cloned.
    X, y
        Training samples and targets, as for ``estimator.fit``.
    start_lr, end_lr : float, default=1e-6 and 1.0
        The sweep's first and last learning rates.
    num_iter : int, default=100
        Training batches in the sweep.
    smoothing : float, default=0.05
        Weight of each new loss in the moving average (0: none).
    diverge : float, default=4.0
        The sweep stops once the smoothed loss exceeds this many times its lowest value.

    Returns
    -------
    LRFinderResult
        The rates, the smoothed losses, the suggested ``lr`` and a ``plot()``.

    Raises
    ------
    ValueError
        When ``end_lr`` is not above ``start_lr``, or the loss is not finite at the first
        batch (then no rate can be suggested).

    Examples
    --------
    >>> from skimage.data import lfw_subset
    >>> from sktransfer.finetune import FineTunedImageClassifier, lr_find
    >>> faces, labels = lfw_subset(), ["face"] * 100 + ["other"] * 100
    >>> found = lr_find(FineTunedImageClassifier(random_state=0, progress=False), faces, labels)
    >>> 1e-4 < found.suggestion < 1.0
    True
    """
    if end_lr <= start_lr:
        raise ValueError(f"end_lr={end_lr} must be above start_lr={start_lr}.")
    started = time.perf_counter()
    model = clone(estimator)
    lrs, losses = [], []
    best, average, diverged = math.inf, 0.0, False
    with model._start(X, y) as (data, module, _, _):
        net = model._make_net(module, len(data), 1).initialize()
        base = [group["lr"] / model.lr for group in net.optimizer_.param_groups]
        ratio = (end_lr / start_lr) ** (1 / (num_iter - 1))
        show = getattr(model, "progress", False)  # the word-vector classifier has no bar
        with progress_bar(show, num_iter, unit="batch", desc="lr_find") as bar:
            while len(lrs) < num_iter and not diverged:
                for batch in net.get_iterator(data, training=True):
                    lr = start_lr * ratio ** len(lrs)
                    for group, scale in zip(net.optimizer_.param_groups, base, strict=True):
                        group["lr"] = lr * scale
                    loss = net.train_step(batch)["loss"].item()
                    if not math.isfinite(loss) and not lrs:
                        raise ValueError(
                            f"The loss is {loss} at the first batch (lr={lr:.1e}): no rate "
                            "trains this model; check the targets and start_lr."
                        )
                    average = (1 - smoothing) * average + smoothing * loss
                    # the moving average, bias-corrected for its start at 0
                    corrected = average / (1 - (1 - smoothing) ** (len(lrs) + 1))
                    smoothed = loss if smoothing == 0 else corrected
                    lrs.append(lr)
                    losses.append(smoothed if math.isfinite(smoothed) else math.inf)
                    bar.update(1)
                    best = min(best, losses[-1])
                    if losses[-1] > diverge * best or not math.isfinite(losses[-1]):
                        diverged = True
                    if diverged or len(lrs) == num_iter:
                        break
    lrs, losses = np.array(lrs), np.array(losses)
    lowest = int(np.argmin(losses))
    lr_min = float(lrs[lowest] / 10)
    if lowest == 0:
        warnings.warn(
            f"The loss never fell below its first value (at lr={start_lr:.1e}); the "
            "suggestion is below the sweep: pass a smaller start_lr.",
            SktransferWarning,
            stacklevel=2,
        )
        suggestion = lr_min
    else:
        suggestion = _steepest(lrs[: lowest + 1], losses[: lowest + 1])
    logger.info(
        "lr_find: %d batches, steepest fall at lr %.1e (the suggestion), lowest loss %.4g "
        "at lr %.1e%s.",
        len(lrs),
        suggestion,
        best,
        lr_min * 10,
        " (diverged)" if diverged else "",
    )
    return LRFinderResult(lrs, losses, suggestion, lr_min, diverged, time.perf_counter() - started)


def _steepest(lrs: np.ndarray, losses: np.ndarray) -> float:
    """The rate where ``losses`` (up to their lowest point) fall fastest against log(lr)."""
    slope = np.gradient(losses, np.log(lrs)) if len(lrs) > 1 else np.zeros(1)
    return float(lrs[int(np.argmin(slope))])
