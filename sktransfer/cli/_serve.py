"""``sktransfer serve``: a saved model behind HTTP ``POST /predict`` and ``GET /health``."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from .. import io
    from ..serving import make_server

    model = io.load(args.model)
    server = make_server(
        model,
        args.host,
        args.port,
        max_bytes=args.max_bytes,
        max_pixels=args.max_pixels,
        timeout=args.timeout,
    )
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
    from ..serving import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS

    parser = commands.add_parser(
        "serve",
        help="serve a saved image model over HTTP",
        description="POST /predict takes an image as the request body or as multipart "
        "form files and answers JSON (class and probabilities); GET /health.",
    )
    parser.add_argument("model", help="a model saved by `sktransfer train` or sktransfer.io.save")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    parser.add_argument(
        "--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="largest request body"
    )
    parser.add_argument(
        "--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, help="largest image (w x h)"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds a client may take to send"
    )
    parser.set_defaults(run=run)
