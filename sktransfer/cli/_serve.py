"""``sktransfer serve``: a saved model behind HTTP ``POST /predict`` and ``GET /health``."""

from __future__ import annotations

import argparse

from ._common import UsageError, add_runtime_option, load_model, port, positive, seconds


def run(args: argparse.Namespace) -> int:
    from ..serving import make_server

    model = load_model(args.model, takes=("images", "texts"), backend=args.backend)
    try:
        server = make_server(
            model,
            args.host,
            args.port,
            max_bytes=args.max_bytes,
            max_pixels=args.max_pixels,
            max_parts=args.max_parts,
            max_texts=args.max_texts,
            max_connections=args.max_connections,
            timeout=args.timeout,
        )
    except OSError as error:  # the port is taken, the address is not this machine's
        raise UsageError(f"cannot listen on {args.host}:{args.port} ({error.strerror}).") from None
    host, port = server.server_address[:2]
    print(
        f"serving {args.model} at http://{host}:{port} (POST /predict, GET /health); Ctrl-C stops",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    from ..serving import (
        DEFAULT_MAX_BYTES,
        DEFAULT_MAX_CONNECTIONS,
        DEFAULT_MAX_PARTS,
        DEFAULT_MAX_PIXELS,
        DEFAULT_MAX_TEXTS,
    )

    parser = commands.add_parser(
        "serve",
        help="serve a saved image or text model over HTTP",
        description="POST /predict takes an image as the request body or as multipart "
        'form files (image models), or JSON {"texts": [...]} (text models), and answers '
        "JSON (class and probabilities); GET /health.",
    )
    parser.add_argument("model", help="a model saved by `sktransfer train` or sktransfer.io.save")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=port, default=8000, help="port (0: any free port)")
    parser.add_argument(
        "--max-bytes", type=positive, default=DEFAULT_MAX_BYTES, help="largest request body"
    )
    parser.add_argument(
        "--max-pixels", type=positive, default=DEFAULT_MAX_PIXELS, help="largest image (w x h)"
    )
    parser.add_argument(
        "--max-parts", type=positive, default=DEFAULT_MAX_PARTS, help="most files per request"
    )
    parser.add_argument(
        "--max-texts", type=positive, default=DEFAULT_MAX_TEXTS, help="most texts per request"
    )
    parser.add_argument(
        "--max-connections",
        type=positive,
        default=DEFAULT_MAX_CONNECTIONS,
        help="requests handled at once; more get 503",
    )
    parser.add_argument(
        "--timeout", type=seconds, default=30.0, help="seconds a client may take to send a request"
    )
    add_runtime_option(parser)
    parser.set_defaults(run=run)
