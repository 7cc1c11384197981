"""``sktransfer demo``: raw pixels, pretrained features and fine-tuning on real images."""

from __future__ import annotations

import argparse
import sys
import time

from ._common import (
    DEFAULT_BACKBONE,
    bounded,
    count,
    cross_validate_predictions,
    feature_cache,
    positive,
)

folds = bounded(int, 2, 20, what="a number of folds from 2 to 20")


def _data(name: str):
    """Images, labels and a description of one of the demo's real datasets."""
    import numpy as np

    if name == "digits":
        from ..datasets import load_mnist_sample

        images, labels = load_mnist_sample()  # installed with sktransfer
        return images[:300], labels[:300].astype(str), "300 real MNIST digits, 10 classes"
    from skimage.data import lfw_subset

    images = lfw_subset()  # 100 faces then 100 non-faces, 25x25 gray, real photographs
    labels = np.array(["face"] * 100 + ["not face"] * 100)
    return images, labels, "faces vs non-faces, scikit-image lfw_subset (200 real photos)"


def run(args: argparse.Namespace) -> int:
    """Three models under the same leakage-safe folds; a table and a PNG."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from ..finetune import FineTunedImageClassifier
    from ..image import PretrainedImageFeaturizer
    from ..model_selection import LeakageSafeKFold

    try:
        import skimage  # noqa: F401  (the demo extra: the photos of faces, and the plot)
    except ImportError:
        print(
            "The demo uses scikit-image's photos: pip install 'sktransfer[demo]'", file=sys.stderr
        )
        return 2
    images, labels, description = _data(args.data)
    # ImageNet features of small gray images put most of them near another, so copies are
    # found by perceptual hash here (the embedding would be set aside with a warning)
    cv = LeakageSafeKFold(args.folds, shuffle=True, random_state=0, method="hash")
    print(
        f"sktransfer demo: {description}, {args.folds}-fold LeakageSafeKFold (copies never "
        "straddle folds)\n"
    )
    results = {}
    with feature_cache(args.cache) as cache:  # each image's frozen activations computed once
        models = {
            "raw pixels + LogisticRegression": make_pipeline(
                FunctionTransformer(_flatten), StandardScaler(), LogisticRegression(max_iter=2000)
            ),
            f"{args.backbone} features + LogisticRegression": make_pipeline(
                PretrainedImageFeaturizer(args.backbone, cache=cache, progress=False),
                LogisticRegression(max_iter=2000),
            ),
            f"{args.backbone} fine-tuned (top {args.unfreeze} groups)": FineTunedImageClassifier(
                args.backbone,
                unfreeze=args.unfreeze,
                max_epochs=args.epochs,
                cache=cache,
                random_state=0,
                progress=False,
            ),
        }
        for name, model in models.items():
            start = time.perf_counter()
            scores, predictions, _ = cross_validate_predictions(model, images, labels, cv)
            results[name] = (scores, predictions, time.perf_counter() - start)
            print(f"  {name}: done in {results[name][2]:.1f} s", file=sys.stderr)
    width = max(map(len, results))
    print(f"{'model':<{width}}  accuracy         seconds")
    for name, (scores, _, seconds) in results.items():
        print(f"{name:<{width}}  {np.mean(scores):.3f} ± {np.std(scores):.3f}   {seconds:7.1f}")
    if args.plot:
        _plot(results, labels, args.plot)
        print(f"\nplot: {args.plot}")
    return 0


def _flatten(X):
    import numpy as np

    return np.asarray(X).reshape(len(X), -1)


def _plot(results: dict, labels, path: str) -> None:
    """Fold accuracies of each model, and the confusion matrix of each model's predictions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.metrics import ConfusionMatrixDisplay

    names = list(results)
    fig, axes = plt.subplots(
        1, 1 + len(names), figsize=(4.2 * (1 + len(names)), 4.2), layout="constrained"
    )
    scores = [results[name][0] for name in names]
    axes[0].boxplot(scores, showmeans=True)
    for i, fold_scores in enumerate(scores, start=1):
        axes[0].scatter(np.full(len(fold_scores), i), fold_scores, color="k", s=12, zorder=3)
    axes[0].set_xticks(range(1, len(names) + 1), [_short(name) for name in names])
    axes[0].set(ylabel="accuracy per fold", title="Leakage-safe cross-validation")
    for ax, name in zip(axes[1:], names, strict=True):
        ConfusionMatrixDisplay.from_predictions(
            labels, results[name][1], ax=ax, colorbar=False, cmap="Blues"
        )
        ax.set_title(f"{_short(name)}: out-of-fold predictions")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _short(name: str) -> str:
    if name.startswith("raw pixels"):
        return "raw pixels"
    return "features + linear" if " features " in name else "fine-tuned"


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "demo",
        help="raw pixels vs pretrained features vs fine-tuning on real images",
        description="Cross-validates a raw-pixel baseline, pretrained features + a linear "
        "model, and a fine-tuned backbone on real images (300 MNIST digits installed with "
        "sktransfer, or scikit-image's 200 lfw_subset photos), offline; prints a table and "
        "writes a plot.",
    )
    parser.add_argument(
        "--data",
        choices=["digits", "faces"],
        default="digits",
        help="digits: handwritten, far from ImageNet, where fine-tuning pays; faces: easy "
        "for pretrained features",
    )
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE, help="backbone name")
    parser.add_argument("--folds", type=folds, default=5, help="cross-validation folds (2-100)")
    parser.add_argument("--unfreeze", type=count, default=2, help="layer groups fine-tuned")
    parser.add_argument("--epochs", type=positive, default=10, help="fine-tuning epochs")
    parser.add_argument("--cache", default=None, help="feature cache folder, kept for later runs")
    parser.add_argument("--plot", default="sktransfer-demo.png", help="PNG to write ('' for none)")
    parser.set_defaults(run=run)
