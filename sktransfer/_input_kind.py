"""What a fitted model takes as input: images, texts, or something else."""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["input_kind"]


def input_kind(model: Any) -> Literal["images", "texts"] | None:
    """``"images"`` or ``"texts"`` when the model starts with an sktransfer image or text
    estimator (directly, as a pipeline's first step, or as a search's best estimator);
    None when it starts with anything else (a table, raw pixels), which the command line and
    the server cannot feed.
    """
    from .export import OnnxImageModel  # torch-free: checked before the imports below

    if isinstance(model, OnnxImageModel):
        return "images"
    from .finetune import (
        FineTunedImageEstimator,
        FineTunedTextClassifier,
        FineTunedTransformerEstimator,
    )
    from .image import PretrainedImageFeaturizer
    from .text import TransformerTextEmbedder, Word2VecEmbedder

    while True:
        if hasattr(model, "best_estimator_"):
            model = model.best_estimator_
        elif hasattr(model, "steps"):
            steps = [step for _, step in model.steps if step not in (None, "passthrough")]
            if not steps:
                return None
            model = steps[0]
        else:
            break
    if isinstance(model, (PretrainedImageFeaturizer, FineTunedImageEstimator)):
        return "images"
    texts = (
        Word2VecEmbedder,
        TransformerTextEmbedder,
        FineTunedTextClassifier,
        FineTunedTransformerEstimator,
    )
    if isinstance(model, texts):
        return "texts"
    return None
