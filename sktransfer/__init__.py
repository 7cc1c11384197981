"""sktransfer: transfer learning as a first-class citizen of scikit-learn.

Every public estimator, splitter, function and exception is importable from here. Names
load on first use, so ``from sktransfer import Word2VecEmbedder`` does not import torch,
and ``from sktransfer import PretrainedImageFeaturizer`` does not import gensim.
Constants stay in their modules (``sktransfer.backbones.DEFAULT_BACKBONE``,
``sktransfer.io.TRUSTED_TYPES``, ``sktransfer.serving.DEFAULT_MAX_BYTES``...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import attach

__version__ = "0.1.0"

# Public name -> the module that exports it (each module's __all__, constants aside;
# tests/test_api.py keeps the two in step).
_LAZY = {
    # estimators
    "DomainAdversarialClassifier": ".finetune",
    "FineTunedImageClassifier": ".finetune",
    "FineTunedImageEstimator": ".finetune",
    "FineTunedImageRegressor": ".finetune",
    "FineTunedTextClassifier": ".finetune",
    "FineTunedTransformerClassifier": ".finetune",
    "FineTunedTransformerEstimator": ".finetune",
    "FineTunedTransformerRegressor": ".finetune",
    "PretrainedImageFeaturizer": ".image",
    "TransformerTextEmbedder": ".text",
    "Word2VecEmbedder": ".text",
    # model selection
    "LeakageSafeKFold": ".model_selection",
    "adaptation_scores": ".model_selection",
    "cv_leakage_report": ".model_selection",
    "find_duplicates": ".model_selection",
    "leakage_report": ".model_selection",
    "leakage_safe_train_test_split": ".model_selection",
    "plot_leakage_pairs": ".model_selection",
    # diagnosis
    "label_issues": ".inspection",
    "plot_top_losses": ".inspection",
    "top_losses": ".inspection",
    # backbones
    "Backbone": ".backbones",
    "Preprocessing": ".backbones",
    "hub_checkpoint_dir": ".backbones",
    "imagenet_categories": ".backbones",
    "is_weights_path": ".backbones",
    "list_backbones": ".backbones",
    "load_backbone": ".backbones",
    "load_state_dict_file": ".backbones",
    "default_augmentation": ".finetune",
    "LRFinderResult": ".finetune",
    "lr_find": ".finetune",
    # word vectors and text
    "is_bundled_transformer": ".text",
    "list_vectors": ".text",
    "load_transformer": ".text",
    "load_vectors": ".text",
    "normalize_text": ".text",
    "pickles_on_load": ".text",
    "tokenize": ".text",
    # datasets
    "blend_onto_photos": ".datasets",
    "fetch_mnist_test": ".datasets",
    "fetch_sms_spam": ".datasets",
    "load_image_folder": ".datasets",
    "load_mnist_sample": ".datasets",
    "load_sms_spam": ".datasets",
    # saving, serving, scaling out
    "load": ".io",
    "save": ".io",
    "make_server": ".serving",
    "ExportReport": ".export",
    "OnnxImageModel": ".export",
    "to_onnx": ".export",
    "featurize": ".dask",
    "featurize_to_parquet": ".dask",
    # exceptions and warnings
    "ImageLoadError": ".exceptions",
    "ModelFileError": ".exceptions",
    "OutOfVocabularyError": ".exceptions",
    "SktransferError": ".exceptions",
    "SktransferWarning": ".exceptions",
    "UnknownBackboneError": ".exceptions",
    "UnknownVectorsError": ".exceptions",
    "UntrustedFileError": ".exceptions",
    "UntrustedTypesError": ".exceptions",
    "VectorsFormatError": ".exceptions",
    "VectorsNotFoundError": ".exceptions",
    "WeightsNotFoundError": ".exceptions",
}

__all__ = sorted([*_LAZY, "__version__"])

if TYPE_CHECKING:
    from .backbones import (  # noqa: F401
        Backbone,
        Preprocessing,
        hub_checkpoint_dir,
        imagenet_categories,
        is_weights_path,
        list_backbones,
        load_backbone,
        load_state_dict_file,
    )
    from .dask import featurize, featurize_to_parquet  # noqa: F401
    from .datasets import (  # noqa: F401
        blend_onto_photos,
        fetch_mnist_test,
        fetch_sms_spam,
        load_image_folder,
        load_mnist_sample,
        load_sms_spam,
    )
    from .exceptions import (  # noqa: F401
        ImageLoadError,
        ModelFileError,
        OutOfVocabularyError,
        SktransferError,
        SktransferWarning,
        UnknownBackboneError,
        UnknownVectorsError,
        UntrustedFileError,
        UntrustedTypesError,
        VectorsFormatError,
        VectorsNotFoundError,
        WeightsNotFoundError,
    )
    from .export import ExportReport, OnnxImageModel, to_onnx  # noqa: F401
    from .finetune import (  # noqa: F401
        DomainAdversarialClassifier,
        FineTunedImageClassifier,
        FineTunedImageEstimator,
        FineTunedImageRegressor,
        FineTunedTextClassifier,
        FineTunedTransformerClassifier,
        FineTunedTransformerEstimator,
        FineTunedTransformerRegressor,
        LRFinderResult,
        default_augmentation,
        lr_find,
    )
    from .image import PretrainedImageFeaturizer  # noqa: F401
    from .inspection import label_issues, plot_top_losses, top_losses  # noqa: F401
    from .io import load, save  # noqa: F401
    from .model_selection import (  # noqa: F401
        LeakageSafeKFold,
        adaptation_scores,
        cv_leakage_report,
        find_duplicates,
        leakage_report,
        leakage_safe_train_test_split,
        plot_leakage_pairs,
    )
    from .serving import make_server  # noqa: F401
    from .text import (  # noqa: F401
        TransformerTextEmbedder,
        Word2VecEmbedder,
        is_bundled_transformer,
        list_vectors,
        load_transformer,
        load_vectors,
        normalize_text,
        pickles_on_load,
        tokenize,
    )

__getattr__, __dir__ = attach(__name__, _LAZY)
