"""Domain-adversarial fine-tuning (DANN): labelled source images, unlabelled target ones."""

from __future__ import annotations

import warnings
from numbers import Real
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, column_or_1d
from skorch.dataset import Dataset as ArrayDataset
from torch import nn

from .._inputs import as_sample_list
from ..backbones import DEFAULT_BACKBONE, Backbone
from ..exceptions import SktransferWarning
from ._callbacks import DomainAdversarialNet, GradientReversalSchedule
from ._classifier import FineTunedImageClassifier
from ._interrupt import all_or_nothing
from ._labels import is_label_sets
from ._modules import make_head
from ._validation import validation_split
from ._weights import loss_weights

__all__ = ["DomainAdversarialClassifier"]


def unlabelled_rows(y: np.ndarray) -> np.ndarray:
    """Where ``y`` holds -1, sklearn's mark of an unlabelled sample (numbers or objects)."""
    if y.dtype.kind in "iuf":
        return y == -1
    if y.dtype.kind == "O":
        return np.array(
            [isinstance(v, Real) and not isinstance(v, bool) and v == -1 for v in y], dtype=bool
        )
    return np.zeros(len(y), dtype=bool)  # string labels: -1 cannot be among them


class DomainAdversarialClassifier(FineTunedImageClassifier):
    """Fine-tuning that uses unlabelled images of the domain the model will meet.

    Domain-adversarial training (Ganin & Lempitsky, 2015; Ganin et al., JMLR 2016): a domain
    classifier reads the features that the label head reads, through a gradient-reversal
    layer, so that the trainable layers learn features that predict the labels of the
    labelled (source) images and cannot tell the domains apart. Unlabelled target images
    are rows of ``X`` whose label in ``y`` is -1, sklearn's semi-supervised convention (as
    :class:`~sklearn.semi_supervised.SelfTrainingClassifier`), so ``fit(X, y)`` works in a
    ``Pipeline``, ``clone`` and ``GridSearchCV``. The domain head trains only; prediction is
    a plain classifier's. Every parameter of :class:`FineTunedImageClassifier` applies,
    with other defaults: ``unfreeze=2`` (something below the label head must train for the
    features to adapt; one group alone could not hide the domain) and ``lr=3e-4`` (the
    adversarial game is unstable at the fine-tuner's 1e-3), chosen on the MNIST-to-photos
    shift of ``benchmarks/adaptation.py``.

    Parameters
    ----------
    backbone : str, default="efficientnet_lite0"
    adaptation_weight : float, default=1.0
        Weight of the domain classifier's loss against the label loss (``lambda`` in the
        papers); the reversed gradient is scaled by ``2 / (1 + exp(-10 p)) - 1`` at
        training progress ``p``, rising from 0 to about 1.
    domain_head : tuple of int, default=(256,)
        Hidden units of the domain classifier (an MLP with ReLU, dropout as ``dropout``).
    unfreeze : int or "all", default=2
    lr : float, default=3e-4
    mixup, cutmix : float, default=0.0
        Must stay 0: mixing rows of two domains has no domain label. Targets are
        single-label; every other parameter is as for :class:`FineTunedImageClassifier`.

    Attributes
    ----------
    classes_ : ndarray
        The labels of the labelled rows.
    domains_ : ndarray
        The domain labels: ``[0, 1]`` for source and target rows under the -1 convention,
        or the values of ``domain`` passed to ``fit``.
    domain_accuracy_ : float or None
        Balanced accuracy of the domain classifier over the last epoch's training batches
        (chance is ``1 / len(domains_)``: near 0.5 for two domains means the features no
        longer tell them apart); None when ``fit`` saw one domain only.
    net_, featurizer_, trainable_groups_
        As for :class:`FineTunedImageClassifier`.
    history_ : skorch.History
        Per epoch also ``domain_loss``, ``domain_acc`` and the last ``reversal``
        coefficient.

    Notes
    -----
    The model depends on the order of the labelled rows among themselves and of the
    unlabelled ones among themselves, not on how the two are interleaved in ``X``: the
    labelled rows are taken first. ``fit`` without any -1 row (and no ``domain``) warns and
    trains as :class:`FineTunedImageClassifier` would; ``y`` of -1 rows only is an error.
    A class that occurs only among the target images cannot be learned: ``classes_`` are
    the labels given. Early stopping validates on held-out labelled rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage.data import lfw_subset
    >>> from sktransfer.finetune import DomainAdversarialClassifier
    >>> faces = lfw_subset()  # 100 faces, then 100 other image patches
    >>> labels = np.array(["face"] * 100 + ["other"] * 100)
    >>> source, target = np.arange(0, 200, 2), np.arange(1, 200, 2)
    >>> inverted = 1 - faces[target]  # the target domain: the photos as negatives
    >>> X = list(faces[source]) + list(inverted)
    >>> y = np.concatenate([labels[source], np.full(100, -1, dtype=object)])
    >>> model = DomainAdversarialClassifier(max_epochs=5, random_state=0, progress=False)
    >>> model.fit(X, y).score(list(inverted), labels[target]) > 0.5
    True
    """

    _parameter_constraints: dict = {
        **FineTunedImageClassifier._parameter_constraints,
        "adaptation_weight": [Interval(Real, 0, None, closed="left")],
        "domain_head": [tuple, list],
    }

    def __init__(
        self,
        backbone: str = DEFAULT_BACKBONE,
        *,
        adaptation_weight: float = 1.0,
        domain_head: tuple[int, ...] = (256,),
        weights: Any = "DEFAULT",
        unfreeze: int | str = 2,
        head: tuple[int, ...] = (),
        dropout: float = 0.0,
        lr: float = 3e-4,
        lr_decay: float = 0.5,
        optimizer: str = "adamw",
        weight_decay: float = 0.01,
        scheduler: str | None = "cosine",
        max_epochs: int = 10,
        batch_size: int = 32,
        augment: Any = None,
        augment_views: int | None = None,
        gradual_unfreeze: int | None = None,
        mixup: float = 0.0,
        cutmix: float = 0.0,
        label_smoothing: float = 0.0,
        early_stopping: int | None = None,
        validation_fraction: float = 0.1,
        class_weight: Any = None,
        threshold: float = 0.5,
        tta: Any = None,
        cache: Any = None,
        device: str | torch.device = "auto",
        random_state: Any = None,
        verbose: int = 0,
        progress: bool | str = "auto",
    ):
        super().__init__(
            backbone,
            weights=weights,
            unfreeze=unfreeze,
            head=head,
            dropout=dropout,
            lr=lr,
            lr_decay=lr_decay,
            optimizer=optimizer,
            weight_decay=weight_decay,
            scheduler=scheduler,
            max_epochs=max_epochs,
            batch_size=batch_size,
            augment=augment,
            augment_views=augment_views,
            gradual_unfreeze=gradual_unfreeze,
            mixup=mixup,
            cutmix=cutmix,
            label_smoothing=label_smoothing,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            threshold=threshold,
            tta=tta,
            cache=cache,
            device=device,
            random_state=random_state,
            verbose=verbose,
            progress=progress,
        )
        self.adaptation_weight = adaptation_weight
        self.domain_head = domain_head

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, domain: Any = None
    ) -> DomainAdversarialClassifier:
        """Fine-tune on the labelled rows while the features learn to hide the domain.

        Parameters
        ----------
        X : collection of images
            Labelled source images and unlabelled target images, in any order.
        y : array-like of shape (n_samples,)
            Labels, -1 for an unlabelled (target) image.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the labelled rows in the label loss (unlabelled rows' are unused).
        domain : array-like of shape (n_samples,), default=None
            Each row's domain, for several labelled (or unlabelled) domains; by default a
            row's domain is whether its label is -1.

        Returns
        -------
        self
        """
        samples = self._as_inputs(X)
        sets = is_label_sets(y)
        y = np.asarray(y)
        if y.ndim != 1 or sets:
            raise ValueError(
                "DomainAdversarialClassifier takes one label per sample (-1 for an "
                f"unlabelled one); got y of shape {y.shape}."
            )
        if len(y) != len(samples):
            raise ValueError(f"X has {len(samples)} samples but y has {len(y)} labels.")
        # Labelled rows first, each side in its given order: interleaving does not matter.
        order = np.argsort(unlabelled_rows(y), kind="stable")
        samples = [samples[i] for i in order]
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)[order]
        if domain is not None:
            domain = column_or_1d(domain)
            if len(domain) != len(y):
                raise ValueError(f"X has {len(y)} samples but domain has {len(domain)}.")
            domain = domain[order]
        with all_or_nothing(self):
            return self._fit(samples, y[order], sample_weight=sample_weight, domain=domain)

    @property
    def domain_accuracy_(self) -> float | None:
        check_is_fitted(self)
        if len(self.domains_) < 2:
            return None
        return float(self.net_.history[-1, "domain_acc"])

    def embed(self, X: Any) -> np.ndarray:
        """The features that the label head and the domain classifier read.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features), dtype float32
            E.g. to see in two dimensions whether the domains still separate.
        """
        check_is_fitted(self)
        samples = as_sample_list(X)
        module = self.net_.module_
        module.eval()
        features = []
        with torch.inference_mode():
            for batch, _ in self.net_.get_iterator(self._dataset(samples), training=False):
                batch = batch.to(self.net_.device)
                features.append(module.features(batch).float().cpu().numpy())
        return np.concatenate(features)

    # -- targets: (class index or -1, domain index) ---------------------------------------------

    def _encode_targets(
        self, y: Any, n_samples: int, *, refit: bool, classes: Any = None, domain: Any = None
    ) -> np.ndarray:
        sets = is_label_sets(y)
        y = np.asarray(y)
        if y.ndim != 1 or sets:
            raise ValueError("DomainAdversarialClassifier takes one label per sample.")
        unlabelled = unlabelled_rows(y)
        if refit:
            if unlabelled.all():
                raise ValueError(
                    f"All {len(y)} labels are -1 (unlabelled): domain adaptation needs "
                    "labelled source images beside the unlabelled target ones."
                )
            self._given_domains = domain is not None
            if domain is None and not unlabelled.any():
                warnings.warn(
                    "y has no -1 (unlabelled) rows and no domain was given: there is no "
                    "target domain to adapt to, so this trains as FineTunedImageClassifier.",
                    SktransferWarning,
                    stacklevel=4,
                )
        elif domain is not None or self._given_domains:
            raise ValueError(
                "partial_fit takes the -1 convention only; a model fitted with domain= "
                "is refitted with fit."
            )
        if domain is None:
            found = unlabelled.astype(np.int64)
            if refit:
                self.domains_ = np.arange(2) if unlabelled.any() else np.arange(1)
            elif unlabelled.any() and len(self.domains_) < 2:
                raise ValueError(
                    f"y has {int(unlabelled.sum())} unlabelled (-1) rows, but the model was "
                    "fitted without any, so it has no domain classifier to adapt with; fit "
                    "it again with them."
                )
        else:
            values = np.unique(domain)
            if refit:
                self.domains_ = values
            unseen = np.setdiff1d(values, self.domains_)
            if len(unseen) or len(values) < 2:
                raise ValueError(
                    f"domain needs at least 2 values known at fit; got {values.tolist()}."
                )
            found = np.searchsorted(self.domains_, domain).astype(np.int64)
        labels = np.full(len(y), -1, dtype=np.int64)
        labels[~unlabelled] = super()._encode_targets(
            y[~unlabelled], int((~unlabelled).sum()), refit=refit, classes=classes
        )
        return np.column_stack([labels, found])

    def _loss_weights(self, sample_weight: Any, targets: np.ndarray) -> np.ndarray | None:
        # class weights index the labels; an unlabelled row's weight reaches no loss
        return loss_weights(sample_weight, np.maximum(targets[:, 0], 0), self._class_weights)

    def _split(self, data: Any, targets: np.ndarray, seed: int) -> tuple[Any, Any]:
        """Early stopping holds out labelled rows only; every unlabelled row trains."""
        if self.early_stopping is None:
            return data, None
        labelled = np.flatnonzero(targets[:, 0] >= 0)
        train, valid = validation_split(
            targets[labelled, 0], self.validation_fraction, seed, classes=True
        )
        train = np.concatenate([labelled[train], np.flatnonzero(targets[:, 0] < 0)])
        return self._part(data, train, training=True), self._part(
            data, labelled[valid], training=False
        )

    def _subset(self, data: Any, indices: np.ndarray, *, training: bool) -> Any:
        part = super()._subset(data, indices, training=training)
        if training:
            return part
        # validation scores the labels alone, in eval mode, as a plain classifier's
        if isinstance(part, ArrayDataset):
            return ArrayDataset(part.X, part.y[:, 0])
        part.targets = part.targets[:, 0]  # images decoded per item (augmented training)
        return part

    # -- the network ----------------------------------------------------------------------------

    def _module(self, backbone: Backbone) -> nn.Module:
        if self.unfreeze == 0 and not self.head:
            raise ValueError(
                "With unfreeze=0 and head=() nothing below the label head trains, so the "
                "features cannot adapt; unfreeze at least 1 layer group or give the head a "
                "hidden layer (e.g. head=(256,))."
            )
        module = super()._module(backbone)
        if len(self.domains_) > 1:
            top = getattr(module, "top", module)
            width = top.head[-1].in_features
            top.domain_head = make_head(width, len(self.domains_), self.domain_head, self.dropout)
        return module

    def _callbacks(self, steps: int) -> list[tuple[str, Any]]:
        callbacks = super()._callbacks(steps)
        if len(self.domains_) > 1:
            callbacks.append(("gradient_reversal", GradientReversalSchedule(steps)))
        return callbacks

    def _net_options(self):
        for name in ("mixup", "cutmix"):
            if getattr(self, name):
                raise ValueError(
                    f"{name} mixes images of two domains, which have no domain label; "
                    "leave it at 0."
                )
        _, options = super()._net_options()
        return DomainAdversarialNet, {**options, "adaptation_weight": self.adaptation_weight}
