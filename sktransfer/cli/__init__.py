"""The ``sktransfer`` command line: demo, featurize, train, predict, serve, export."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from . import _demo, _export, _featurize, _predict, _serve, _train
from ._common import UsageError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sktransfer", description="Transfer learning for scikit-learn."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)
    for verb in (_demo, _featurize, _train, _predict, _serve, _export):
        verb.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sktransfer`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    from ..exceptions import SktransferError

    try:
        return args.run(args)
    except UsageError as error:
        parser.exit(2, f"sktransfer {args.command}: error: {error}\n")
    except SktransferError as error:  # bad data or missing weights: a message, no traceback
        hint = " (here: --on-error warn)" if "on_error='warn'" in str(error) else ""
        parser.exit(1, f"sktransfer {args.command}: error: {error}{hint}\n")
