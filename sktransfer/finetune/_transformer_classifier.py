"""Fine-tune a pretrained transformer (BERT-style) as an sklearn classifier."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ._callbacks import TransferClassifierNet
from ._labels import ClassTargets
from ._transformer import FineTunedTransformerEstimator

__all__ = ["FineTunedTransformerClassifier"]


class FineTunedTransformerClassifier(ClassTargets, ClassifierMixin, FineTunedTransformerEstimator):
    """A pretrained transformer fine-tuned as a text classifier, BERT-style.

    The top ``unfreeze`` layers of the encoder train together with a new head on the pooled
    token states; the layers below stay frozen. They are a pure function of the text, so
    their output (each token's hidden state at the freezing boundary) is computed once, by
    :class:`~sktransfer.TransformerTextEmbedder`, and cached by content when ``cache`` is
    set: every epoch, cross-validation fold and grid candidate with the same depth then
    runs only the layers that train. Training runs on skorch with AdamW, layer-wise
    learning rates and a warmup schedule; the weights load in ``fit``, so every ``clone``
    (hence every ``GridSearchCV`` candidate) starts from the pretrained model.

    Parameters
    ----------
    model : str or path, default="all-MiniLM-L6-v2"
        The offline default (sentence-transformers' all-MiniLM-L6-v2, 6 layers, 384 wide),
        a local Hugging Face model folder, or a hub name (see
        :func:`~sktransfer.text.load_transformer`).
    unfreeze : int or "all", default=2
        Encoder layers that train, counted from the top: 0 trains only the head on the
        frozen model's pooled embedding (a probe), the number of layers trains every layer
        on the frozen embeddings' output, "all" trains the embeddings too (no frozen part).
    pooling : {"mean", "cls", "max"}, default="mean"
        How token states become the head's input (see
        :class:`~sktransfer.TransformerTextEmbedder`); "mean" is how the default model was
        trained.
    head : tuple of int, default=()
        Hidden units of the new head; () is a single linear layer.
    dropout : float, default=0.1
        Dropout before each linear layer of the head (the encoder keeps its own).
    lr : float, default=2e-4
        Learning rate of the top trainable layer.
    head_lr : float or None, default=1e-2
        Learning rate of the new head, which starts from random weights; None: ``lr``.
    lr_decay : float, default=0.9
        Layer-wise learning rates: the layer ``k`` steps below the top trains with
        ``lr * lr_decay**k`` (the embeddings, with ``unfreeze="all"``, one step below the
        bottom layer).
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay.
    scheduler : {"linear", "cosine"} or None, default="linear"
        Learning-rate decay to 0 over all training batches, stepped every batch, after the
        warmup; None keeps the rates constant.
    warmup : float, default=0.1
        Share of the training batches over which the rates first rise linearly.
    max_epochs : int, default=3
    batch_size : int, default=32
    max_length : int or None, default=None
        Tokens kept per text (the rest is cut); None: what the model was trained with (256
        for the default).
    gradual_unfreeze : int or None, default=None
        ULMFiT-style: the head trains alone for this many epochs, then one more layer
        joins every this many epochs (top first).
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
    cache : str, path, joblib.Memory or None, default=None
        Folder of the content-addressed cache of the frozen layers' output, shared with
        :class:`~sktransfer.TransformerTextEmbedder`.
    device : str or torch.device, default="auto"
        "auto": CUDA (bfloat16 autocast) when available, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the head's initialisation, dropout, shuffling and the validation split: on
        the CPU, two fits with the same seed give bit-identical models.
    verbose : int, default=0
        1 prints skorch's table of epochs.
    progress : bool or "auto", default="auto"
        Progress bar while the frozen layers' output is computed.

    Attributes
    ----------
    classes_ : ndarray
        The labels, as given in ``fit``.
    featurizer_ : TransformerTextEmbedder
        Computes the frozen layers' output (token states at ``featurizer_.layer_``, or the
        pooled embedding with ``unfreeze=0``) and tokenizes.
    trainable_groups_ : list of str
        The groups that trained, bottom first (``"embeddings"``, ``"layer.4"``, ...).
    net_ : skorch.NeuralNetClassifier
        The trained net; its module holds the layers that trained and the head.
    history_ : skorch.History
        Per-epoch losses (and validation scores with early stopping).

    See Also
    --------
    TransformerTextEmbedder : the frozen model's embeddings, for any sklearn estimator.
    FineTunedTextClassifier : a smaller network over pretrained word vectors.

    Notes
    -----
    Texts follow the policy of :class:`~sktransfer.Word2VecEmbedder` (missing values are
    empty texts; other non-text objects raise an error naming their index). ``fit`` and
    ``partial_fit`` are all or nothing: interrupted (Ctrl-C) or failed, they leave the
    estimator as it was before the call, then re-raise.

    Examples
    --------
    >>> from sktransfer import FineTunedTransformerClassifier, load_sms_spam
    >>> sms = load_sms_spam()
    >>> train, test = sms[:300], sms[300:600]
    >>> model = FineTunedTransformerClassifier(random_state=0, progress=False)
    >>> model.fit(train["text"], train["label"]).score(test["text"], test["label"]) > 0.95
    True
    """

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self)
        return self._net_output(X, "predict_proba").astype(np.float64)

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> FineTunedTransformerClassifier:
        """One more epoch on ``X``, ``y``; the first call needs every class in ``y`` or
        ``classes``. The learning-rate schedule restarts with each call."""
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)

    def _net_options(self):
        return TransferClassifierNet, {**self._loss_options(), **self._collate_options()}
