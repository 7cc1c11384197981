"""The ``sktransfer`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Sequence

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    """Raw pixels vs pretrained features on real photos, cross-validated, offline."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from .image import PretrainedImageFeaturizer

    try:
        from skimage.data import lfw_subset
    except ImportError:
        print(
            "The demo uses scikit-image's photos: pip install 'sktransfer[demo]'", file=sys.stderr
        )
        return 2
    images = lfw_subset()  # 100 faces then 100 non-faces, 25x25 gray, real photographs
    labels = np.array(["face"] * 100 + ["not face"] * 100)
    cv = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    flatten = FunctionTransformer(lambda X: np.asarray(X).reshape(len(X), -1))
    print(
        f"sktransfer demo: faces vs non-faces, scikit-image lfw_subset ({len(images)} real "
        f"photos), {args.folds}-fold stratified cross-validation\n"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="sktransfer-demo-") as scratch:
        cache = args.cache or scratch  # featurize each image once across the folds
        models = {
            "raw pixels + LogisticRegression": make_pipeline(
                flatten, StandardScaler(), LogisticRegression(max_iter=2000)
            ),
            f"{args.backbone} features + LogisticRegression": make_pipeline(
                PretrainedImageFeaturizer(args.backbone, cache=cache, progress=True),
                LogisticRegression(max_iter=2000),
            ),
        }
        for name, model in models.items():
            start = time.perf_counter()
            scores = cross_val_score(model, images, labels, cv=cv)
            rows.append((name, scores.mean(), scores.std(), time.perf_counter() - start))
    width = max(len(r[0]) for r in rows)
    print(f"{'model':<{width}}  accuracy         seconds")
    for name, mean, std, seconds in rows:
        print(f"{name:<{width}}  {mean:.3f} ± {std:.3f}   {seconds:7.1f}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sktransfer", description="Transfer learning for scikit-learn."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="cross-validate pretrained features on real photos")
    demo.add_argument("--backbone", default="efficientnet_lite0", help="backbone name")
    demo.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    demo.add_argument(
        "--cache", default=None, help="feature cache folder (default: a temporary one)"
    )
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sktransfer`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
