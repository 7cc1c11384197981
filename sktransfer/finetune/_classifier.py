"""Fine-tune a pretrained backbone as an sklearn classifier."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ._base import FineTunedImageEstimator
from ._callbacks import TransferClassifierNet
from ._labels import ClassTargets

__all__ = ["FineTunedImageClassifier"]


class FineTunedImageClassifier(ClassTargets, ClassifierMixin, FineTunedImageEstimator):
    """A pretrained backbone fine-tuned as a classifier: from a linear probe to full training.

    The top ``unfreeze`` layer groups of the backbone train together with a new head; the
    groups below stay frozen (eval mode, no gradients, no optimizer state). Without
    augmentation the frozen part is a pure function of the image, so its output is computed
    once (by :class:`~sktransfer.PretrainedImageFeaturizer`, on its content-addressed cache
    when ``cache`` is set) and every epoch trains only the top on those activations.
    Training runs on skorch; the weights load in ``fit``, so every ``clone`` (hence every
    ``GridSearchCV`` candidate) starts from the pretrained weights.

    Parameters
    ----------
    backbone : str, default="efficientnet_lite0"
        Registry name (see :func:`~sktransfer.backbones.list_backbones`).
    weights : str or path, default="DEFAULT"
        Pretrained weights, as for :class:`~sktransfer.PretrainedImageFeaturizer`.
    unfreeze : int or "all", default=0
        Layer groups that train, counted from the top: 0 trains only the head (a linear or
        MLP probe on frozen features), "all" trains the whole network.
    head : tuple of int, default=()
        Hidden units of the new head; () is a single linear layer.
    dropout : float, default=0.0
        Dropout before each linear layer of the head.
    lr : float, default=1e-3
        Learning rate of the head and of the top trainable group.
    lr_decay : float, default=0.5
        Discriminative learning rates: the group ``k`` steps below the top trains with
        ``lr * lr_decay**k``.
    optimizer : {"adamw", "adam", "sgd"}, default="adamw"
    weight_decay : float, default=0.01
    scheduler : {"cosine", "onecycle"} or None, default="cosine"
        Learning-rate schedule over all training batches, stepped every batch.
    max_epochs : int, default=10
    batch_size : int, default=32
    augment : None, "default" or callable, default=None
        Training-time augmentation of the PIL image before the backbone's preprocessing;
        "default" is a random resized crop, a horizontal flip and light colour jitter. With
        augmentation the frozen part runs on every batch (still without autograd), unless
        ``augment_views`` caches it.
    augment_views : int or None, default=None
        Augmentation at cache speed: the frozen part's activations of this many augmented
        views of each image are computed once (each draw seeded by its index and the
        image's pixels, so it is a pure function of the two, cached on ``cache`` like any
        view), and every training item draws one of them at random. Every epoch, fold and
        grid candidate reads the same draws; ``K`` forward passes per image replace one per
        image and epoch. Needs ``augment`` and a frozen part (``unfreeze`` not "all").
    gradual_unfreeze : int or None, default=None
        ULMFiT-style schedule: the head trains alone for this many epochs, then one more of
        the ``unfreeze`` groups joins every this many epochs (top first).
    mixup : float, default=0.0
        Mixup's Beta(alpha, alpha) parameter; 0 is off. Without augmentation, the cached
        activations of the frozen part are mixed (manifold mixup at that layer).
    cutmix : float, default=0.0
        CutMix's Beta(alpha, alpha) parameter (1.0 is the paper's); 0 is off. A box of
        another training image is pasted into each one, and the targets mix by the boxes'
        area; on the cached activation map of the frozen part (``unfreeze`` of at least 1,
        a convolutional backbone), or on the pixels with on-the-fly ``augment``. With
        ``mixup`` as well, each batch takes one of the two at even odds.
    label_smoothing : float, default=0.0
    early_stopping : int or None, default=None
        Patience in epochs on the loss of a stratified validation split
        (``validation_fraction`` of the training data); the best weights are restored.
    validation_fraction : float, default=0.1
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as sklearn's classifiers take them: "balanced"
        weighs each class by ``n_samples / (n_classes * count)``; a dict maps every label
        to its weight. They multiply ``fit``'s ``sample_weight``.
    threshold : float, default=0.5
        For multi-label targets, the probability from which :meth:`predict` gives a label.
    tta : {"flip", "five_crop", "ten_crop"}, list or None, default=None
        Test-time augmentation for :meth:`predict_proba` and :meth:`predict`: the
        probabilities are averaged over views of each image, the views named as for
        :class:`~sktransfer.PretrainedImageFeaturizer` (``"flip"`` adds the mirror image;
        ``"five_crop"`` the four corner crops; a list names views or gives callables).
        Training is unchanged; each view's frozen activations are cached apart, so a
        search over ``tta`` computes each once.
    cache : str, path, joblib.Memory or None, default=None
        Folder of the featurizer's content-addressed cache, shared with
        :class:`~sktransfer.PretrainedImageFeaturizer`: grid points and folds with the same
        backbone, weights and depth compute each image's frozen activations once.
    device : str or torch.device, default="auto"
        "auto": CUDA (bfloat16 autocast) when available, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the head's initialisation, the shuffling and the validation split.
    verbose : int, default=0
        1 prints skorch's table of epochs.
    progress : bool or "auto", default="auto"
        Progress bar while frozen activations are computed.

    Attributes
    ----------
    classes_ : ndarray
        The labels, as given in ``fit``.
    net_ : skorch.NeuralNetClassifier
        The trained net (its module is the trainable part, or the whole network when inputs
        are augmented).
    featurizer_ : PretrainedImageFeaturizer or None
        Computes the frozen part's output (None when inputs are augmented on the fly or
        every group trains).
    trainable_groups_ : list of str
        Names of the layer groups that trained.
    history_ : skorch.History
        Per-epoch losses (and validation scores with early stopping).

    Notes
    -----
    ``fit`` and ``partial_fit`` are all or nothing. Interrupted (Ctrl-C) or failed, they
    leave the estimator as it was before the call, then re-raise: unfitted after a first
    ``fit``, the previous model after a refit, the last completed epoch after
    ``partial_fit``.

    Examples
    --------
    >>> from skimage.data import lfw_subset
    >>> from sktransfer.finetune import FineTunedImageClassifier
    >>> faces = lfw_subset()
    >>> labels = ["face"] * 100 + ["other"] * 100
    >>> model = FineTunedImageClassifier(max_epochs=5, random_state=0, progress=False)
    >>> model.fit(faces[::2], labels[::2]).score(faces[1::2], labels[1::2]) > 0.95
    True
    """

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self)
        return self._predict_views(X, self.net_.predict_proba)

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> FineTunedImageClassifier:
        """One more epoch on ``X``, ``y``; the first call needs every class in ``y`` or
        ``classes``. The learning-rate schedule restarts with each call."""
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)

    def _net_options(self):
        options = {"mixup": self.mixup, "cutmix": self.cutmix, **self._loss_options()}
        if not self._multilabel:
            options["criterion__label_smoothing"] = self.label_smoothing
        elif self.label_smoothing:
            raise ValueError("label_smoothing applies to single-label targets; leave it at 0.")
        return TransferClassifierNet, options
