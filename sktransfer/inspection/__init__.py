"""What a model gets wrong, from honest out-of-fold predictions.

:func:`top_losses` lists the samples with the highest out-of-fold loss (fastai's
``plot_top_losses``), :func:`plot_top_losses` draws them, and :func:`label_issues` ranks the
samples whose given label is likely wrong (confident learning, through cleanlab). Each
sample's probabilities come from a model that never saw it nor any copy of it: the folds
are :class:`~sktransfer.LeakageSafeKFold`'s unless you pass another ``cv``.
"""

from ._diagnosis import label_issues, top_losses
from ._plot import plot_top_losses

__all__ = ["label_issues", "plot_top_losses", "top_losses"]
