"""``sktransfer featurize``: pretrained features of a folder or table of images, or of a
table's text column."""

from __future__ import annotations

import argparse
import time

from ._common import UsageError, add_backbone_options, check_output

# sktransfer.text.DEFAULT_TRANSFORMER, spelled out so that `sktransfer --help` needs no torch
DEFAULT_TRANSFORMER = "all-MiniLM-L6-v2"
TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _read_images(source: str, column: str):
    """A DataFrame with an image-path ``column`` from a folder or a CSV/parquet table."""
    from pathlib import Path

    import pandas as pd

    from .._inputs import list_images
    from ..datasets import load_image_folder

    path = Path(source)
    if path.is_dir():
        if not any(f.is_dir() and not f.name.startswith(".") for f in path.iterdir()):
            return pd.DataFrame({column: list_images(path)})  # a flat folder: no labels
        try:
            return load_image_folder(path).rename(columns={"path": column})
        except (FileNotFoundError, ValueError) as error:  # a malformed class-folder tree
            raise UsageError(str(error)) from error
    frame = _read_table(source, column, "a folder of images or a .csv/.parquet table", "--column")
    relative = frame[column].map(lambda p: isinstance(p, str) and not Path(p).is_absolute())
    frame.loc[relative, column] = [str(path.parent / p) for p in frame.loc[relative, column]]
    return frame


def _read_table(source: str, column: str, expected: str, option: str):
    """A CSV or parquet table that has ``column``, or a usage error naming ``option``."""
    from pathlib import Path

    import pandas as pd

    path = Path(source)
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None or not path.is_file():
        raise UsageError(f"{source}: expected {expected}.")
    frame = pd.read_csv(path) if kind == "csv" else pd.read_parquet(path)
    if column not in frame.columns:
        raise UsageError(
            f"{source} has no column {column!r} (columns: {', '.join(map(str, frame.columns))});"
            f" name the column with {option}."
        )
    return frame


def _write_table(frame, output: str) -> None:
    from pathlib import Path

    if Path(output).suffix.lower() == ".csv":
        frame.to_csv(output, index=False)
    else:
        frame.to_parquet(output, index=False)


def run(args: argparse.Namespace) -> int:
    """Features of every image in a folder or table, or of every text in a table's column,
    written beside its columns."""
    import pandas as pd

    start = time.perf_counter()
    what = "images" if args.texts is None else "texts"
    frame, column, featurizer, name = (_images if what == "images" else _texts)(args)
    features = (
        featurizer.set_output(transform="pandas").fit_transform(frame[column]).set_axis(frame.index)
    )
    table = pd.concat([frame, features], axis=1)
    _write_table(table, args.output)
    failed = int(features.isna().any(axis=1).sum())
    print(
        f"wrote {len(table)} {what} x {features.shape[1]} features ({name}) to "
        f"{args.output} in {time.perf_counter() - start:.1f} s"
        + (f"; {failed} unreadable image(s) have NaN features" if failed else "")
    )
    return 0


def _images(args: argparse.Namespace):
    from ..image import PretrainedImageFeaturizer

    frame = _read_images(args.input, args.column)
    if frame.empty:
        raise UsageError(f"{args.input}: no images found.")
    images = [p for p in frame[args.column] if isinstance(p, str)]
    check_output(args.output, [args.input, *images])
    featurizer = PretrainedImageFeaturizer(
        args.backbone,
        batch_size=args.batch_size,
        device=args.device,
        cache=args.cache,
        on_error=args.on_error,
        progress=True,
    )
    return frame, args.column, featurizer, args.backbone


def _texts(args: argparse.Namespace):
    from ..text import TransformerTextEmbedder

    frame = _read_table(args.input, args.texts, "a .csv/.parquet table with texts", "--texts")
    if frame.empty:
        raise UsageError(f"{args.input}: the table has no rows.")
    check_output(args.output, [args.input])
    embedder = TransformerTextEmbedder(
        args.model,
        batch_size=args.batch_size,
        device=args.device,
        cache=args.cache,
        progress=True,
    )
    return frame, args.texts, embedder, str(args.model)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "featurize",
        help="pretrained features of a folder of images, a table of image paths, or a "
        "table's text column",
        description="Write the pretrained features of every image, beside the input's columns "
        "(path, and label/split for a class-per-folder tree), or the sentence embeddings of "
        "a table's text column (--texts), to parquet or CSV.",
    )
    parser.add_argument(
        "input",
        help="a folder (root/<label>/<image>, root/<split>/<label>/<image>, or images "
        "directly in it), or a .csv/.parquet table with an image-path column (relative "
        "paths are read from the table's folder)",
    )
    parser.add_argument(
        "-o", "--output", required=True, help="output table: .parquet (default) or .csv"
    )
    parser.add_argument("--column", default="path", help="the image-path column (default: path)")
    parser.add_argument(
        "--texts",
        metavar="COLUMN",
        default=None,
        help="embed the texts of this column of a table (missing values as empty texts) "
        "with a pretrained transformer, instead of images",
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_TRANSFORMER,
        help=f"with --texts: the transformer, a local Hugging Face folder or a hub name "
        f"(default: {DEFAULT_TRANSFORMER}, installed with sktransfer)",
    )
    add_backbone_options(parser)
    parser.add_argument(
        "--on-error",
        choices=["raise", "warn"],
        default="raise",
        help="raise: stop at the first unreadable image, naming it; warn: NaN features "
        "for unreadable images and one warning listing them",
    )
    parser.set_defaults(run=run)
