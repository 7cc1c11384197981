"""``sktransfer train``: a leakage-safe cross-validation report, then the final model."""

from __future__ import annotations

import argparse
import time

from ._common import (
    UsageError,
    add_backbone_options,
    check_output,
    count,
    cross_validate_predictions,
    feature_cache,
    positive,
)

HELD_OUT_SPLITS = {"test"}


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from sklearn.metrics import classification_report

    from .. import io
    from ..datasets import load_image_folder
    from ..image import PretrainedImageFeaturizer
    from ..model_selection import LeakageSafeKFold

    finetune_only = (args.unfreeze, args.epochs, args.augment_views)
    if args.strategy == "probe" and any(option is not None for option in finetune_only):
        raise UsageError(
            "--unfreeze, --epochs and --augment-views apply to --strategy finetune only."
        )
    try:
        frame = load_image_folder(args.folder)
    except (FileNotFoundError, ValueError) as error:
        raise UsageError(str(error)) from error
    held_out = np.zeros(len(frame), dtype=bool)
    if "split" in frame:
        held_out = frame["split"].isin(HELD_OUT_SPLITS).to_numpy()
    paths, labels = np.array(frame["path"], dtype=object), frame["label"].to_numpy()
    check_output(args.output, paths)
    X, y = paths[~held_out].tolist(), labels[~held_out]
    classes, counts = np.unique(y, return_counts=True)
    if args.folds == 1 or args.folds > counts.min():
        raise UsageError(
            f"--folds {args.folds}: use 0 (no cross-validation) or 2 to {counts.min()} (the "
            "images in the smallest class)."
        )
    summary = ", ".join(f"{name} {n}" for name, n in zip(classes, counts, strict=True))
    print(f"{len(X)} training images in {len(classes)} classes ({summary})")
    with feature_cache(args.cache) as cache:
        model = _model(args, cache)
        if args.folds >= 2:
            start = time.perf_counter()
            # near copies by perceptual hash and by this backbone's features, which the
            # probe then reads from the cache
            embedder = PretrainedImageFeaturizer(
                args.backbone,
                batch_size=args.batch_size,
                device=args.device,
                cache=cache,
                progress=False,
            )
            cv = LeakageSafeKFold(
                args.folds,
                shuffle=True,
                random_state=args.random_state,
                method=args.duplicates,
                embedder=embedder,
            )
            scores, predictions, proba = cross_validate_predictions(model, X, y, cv)
            seconds = time.perf_counter() - start
            print(
                f"\nleakage-safe {args.folds}-fold cross-validation ({seconds:.1f} s; duplicate "
                "and near-duplicate images kept in one fold):"
            )
            print("  fold accuracy: " + "  ".join(f"{s:.3f}" for s in scores))
            print(f"  accuracy: {np.mean(scores):.3f} ± {np.std(scores):.3f}")
            if args.strategy == "finetune":
                _compare_with_the_probe(args, cache, X, y, cv, scores, model.max_epochs)
            print()
            print(classification_report(y, predictions, digits=3, zero_division=0))
            _print_diagnosis(X, y, proba, args.worst)
        start = time.perf_counter()
        model.fit(X, y)
        print(f"final fit on all {len(X)} training images: {time.perf_counter() - start:.1f} s")
        if held_out.any():
            test = paths[held_out].tolist()
            accuracy = model.score(test, labels[held_out])
            print(f"held-out 'test' split: accuracy {accuracy:.3f} on {len(test)} images")
    _forget_cache(model)  # a cache folder is this machine's: the saved model names none
    io.save(model, args.output)
    print(f"saved {args.output}")
    return 0


def _compare_with_the_probe(args, cache, X: list, y, cv, scores: list[float], epochs: int) -> None:
    """The linear probe of the same backbone on the same folds: the baseline a fine-tune
    has to beat, and a note when it does not (too few images, or epochs, to fine-tune)."""
    import numpy as np

    probe = _model(argparse.Namespace(**{**vars(args), "strategy": "probe"}), cache)
    baseline, _, _ = cross_validate_predictions(probe, X, y, cv)
    print(
        f"  linear probe of {args.backbone}, same folds: {np.mean(baseline):.3f} ± "
        f"{np.std(baseline):.3f}"
    )
    if np.mean(scores) < np.mean(baseline):
        print(
            f"  note: fine-tuning scores below the probe here; with {len(X)} images (or "
            f"{epochs} epochs) it is not reliable: --strategy probe is the safer model"
        )


def _print_diagnosis(X: list, y, proba, n: int) -> None:
    """The ``n`` worst out-of-fold predictions and the labels that look wrong."""
    from ..inspection import label_issues, top_losses

    if n == 0:
        return
    worst = top_losses(None, X, y, proba=proba, k=n, kind="image")
    print(f"worst {len(worst)} out-of-fold predictions (highest loss first):")
    for position, row in worst.iterrows():
        print(
            f"  #{position} {row['sample']}: given {row['given_label']}, predicted "
            f"{row['predicted_label']} (p(given) {row['given_probability']:.3f})"
        )
    try:
        issues = label_issues(None, X, y, proba=proba, kind="image")
    except ImportError as error:
        print(f"\nlabel issues: skipped ({error})")
        return
    print(f"\n{len(issues)} labels look wrong (confident learning, most likely first):")
    for position, row in issues.head(n).iterrows():
        print(
            f"  #{position} {row['sample']}: given {row['given_label']}, suggested "
            f"{row['suggested_label']} (p(given) {row['score']:.3f})"
        )
    print()


def _model(args: argparse.Namespace, cache: str):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from ..finetune import FineTunedImageClassifier
    from ..image import PretrainedImageFeaturizer

    options = {
        "batch_size": args.batch_size,
        "device": args.device,
        "cache": cache,
        "tta": args.tta,
    }
    if args.strategy == "probe":
        return make_pipeline(
            PretrainedImageFeaturizer(args.backbone, **options),
            LogisticRegression(max_iter=2000),
        )
    return FineTunedImageClassifier(
        args.backbone,
        unfreeze=2 if args.unfreeze is None else args.unfreeze,
        max_epochs=10 if args.epochs is None else args.epochs,
        augment=None if args.augment_views is None else "default",
        augment_views=args.augment_views,
        random_state=args.random_state,
        **options,
    )


def _forget_cache(model) -> None:
    """Point the saved model at no cache folder (features are computed the same).

    ``sktransfer.io.load`` would drop a cache folder that its caller did not list anyway.
    """
    for estimator in [model, *getattr(model, "named_steps", {}).values()]:
        if "cache" in estimator.get_params(deep=False):
            estimator.set_params(cache=None)
        if getattr(estimator, "featurizer_", None) is not None:
            estimator.featurizer_.set_params(cache=None)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train",
        help="train an image classifier on a class-per-folder tree and save it",
        description="Prints a leakage-safe cross-validation report (LeakageSafeKFold: copies "
        "of an image never straddle folds), fits on all training images (a 'test' split "
        "folder is held out and scored) and saves the model with skops.",
    )
    parser.add_argument("folder", help="root/<label>/<image> or root/<split>/<label>/<image>")
    parser.add_argument("-o", "--output", required=True, help="model file (.skops)")
    parser.add_argument(
        "--strategy",
        choices=["probe", "finetune"],
        default="probe",
        help="probe: pretrained features + LogisticRegression; finetune: train the top "
        "layer groups of the backbone with a new head",
    )
    parser.add_argument("--unfreeze", type=count, default=None, help="finetune: groups trained (2)")
    parser.add_argument("--epochs", type=positive, default=None, help="finetune: epochs (10)")
    parser.add_argument(
        "--augment-views",
        type=positive,
        default=None,
        help="finetune: train on this many augmented views of each image (random crop, "
        "flip, colour jitter), their frozen activations computed once and cached",
    )
    parser.add_argument(
        "--tta",
        choices=["flip", "five_crop", "ten_crop"],
        default=None,
        help="test-time augmentation: the probe averages the features of these views of "
        "each image, the fine-tuned model its probabilities",
    )
    parser.add_argument("--folds", type=count, default=5, help="cross-validation folds; 0 skips it")
    parser.add_argument(
        "--duplicates",
        choices=["both", "hash", "embedding"],
        default="both",
        help="how near copies are kept in one fold: by perceptual hash, by the backbone's "
        "features (crops, flips, small turns), or both; 'hash' for small gray images, "
        "whose features all look alike",
    )
    parser.add_argument(
        "--worst",
        type=count,
        default=5,
        help="after the cross-validation, print this many worst out-of-fold predictions "
        "and suspect labels (0: none)",
    )
    parser.add_argument("--random-state", type=int, default=0, help="seed of folds and training")
    add_backbone_options(parser)
    parser.set_defaults(run=run)
