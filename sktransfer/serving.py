"""Serve a fitted image model over HTTP: ``POST /predict`` with image uploads, ``GET /health``.

Built on the standard library's threading HTTP server, for a model behind a reverse proxy
or on a trusted network (``sktransfer serve`` listens on 127.0.0.1 unless told otherwise).

- ``POST /predict`` takes the image as the raw request body (``curl --data-binary
  @cat.jpg``) or one or more files as ``multipart/form-data`` (``curl -F file=@cat.jpg``),
  and answers ``{"predictions": [{"file": ..., "class": ..., "probabilities": {...}}]}``
  (``"prediction"`` for a regressor).
- Uploads are only ever decoded as images: a client cannot make the server read a path.
- Limits: a body over ``max_bytes`` is refused with 413 before it is read, an image over
  ``max_pixels`` with 413 before it is decoded; a non-image gets 415, a broken image 400,
  each with a JSON ``{"error": ...}`` that names the upload; a client that stalls is cut
  off after ``timeout`` seconds. Predictions run one request at a time.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .exceptions import ImageLoadError

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_PIXELS", "make_server"]

DEFAULT_MAX_BYTES = 16 * 2**20
DEFAULT_MAX_PIXELS = 40_000_000  # 8000 x 5000

logger = logging.getLogger(__name__)


class RequestError(Exception):
    """A request the server refuses, with its HTTP status."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


def make_server(
    model: Any,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    timeout: float = 30.0,
) -> ThreadingHTTPServer:
    """An HTTP server (not yet serving) for ``model``; call ``serve_forever()`` on it.

    Parameters
    ----------
    model : fitted estimator
        Takes a list of encoded images (``bytes``): a pipeline that starts with
        :class:`~sktransfer.PretrainedImageFeaturizer`, or a fine-tuned estimator.
    host, port : str, int
        Where to listen; port 0 picks a free port (see ``server.server_address``).
    max_bytes : int
        Largest request body accepted.
    max_pixels : int
        Largest image (width x height) accepted, checked from its header.
    timeout : float
        Seconds a client may take to send its request.
    """
    handler = type("Handler", (_Handler,), {"timeout": timeout})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.model = model
    server.max_bytes = max_bytes
    server.max_pixels = max_pixels
    server.predict_lock = threading.Lock()
    return server


class _Handler(BaseHTTPRequestHandler):
    server_version = "sktransfer"

    def do_GET(self) -> None:
        if self.path != "/health":
            self._send_error(RequestError(HTTPStatus.NOT_FOUND, "GET /health or POST /predict"))
            return
        model = self.server.model
        classes = getattr(model, "classes_", None)
        self._send(
            HTTPStatus.OK,
            {
                "status": "ok",
                "model": type(model).__name__,
                "classes": None if classes is None else [str(c) for c in classes],
            },
        )

    def do_POST(self) -> None:
        try:
            if self.path != "/predict":
                raise RequestError(HTTPStatus.NOT_FOUND, "GET /health or POST /predict")
            uploads = self._uploads(self._body())
            for name, data in uploads:
                self._check_image(name, data)
            with self.server.predict_lock:
                predictions = _predict(self.server.model, uploads)
            self._send(HTTPStatus.OK, {"predictions": predictions})
        except RequestError as error:
            self._send_error(error)
        except ImageLoadError as error:  # the header was fine, the pixels are not
            self._send_error(RequestError(HTTPStatus.BAD_REQUEST, str(error)))
        except Exception as error:  # the server outlives any model failure
            logger.exception("prediction failed")
            message = f"prediction failed: {type(error).__name__}"
            self._send_error(RequestError(HTTPStatus.INTERNAL_SERVER_ERROR, message))

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length header")
        if not length.isdigit():
            raise RequestError(HTTPStatus.BAD_REQUEST, f"bad Content-Length {length!r}")
        size = int(length)
        if size > self.server.max_bytes:
            self.close_connection = True
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the request has {size} bytes; the limit is {self.server.max_bytes}",
            )
        try:
            body = self.rfile.read(size)
        except TimeoutError as error:
            self.close_connection = True
            raise RequestError(
                HTTPStatus.REQUEST_TIMEOUT, f"the request body did not arrive in {self.timeout} s"
            ) from error
        if len(body) < size:
            raise RequestError(HTTPStatus.BAD_REQUEST, "the request body ended early")
        if not body:
            raise RequestError(HTTPStatus.BAD_REQUEST, "the request has no image")
        return body

    def _uploads(self, body: bytes) -> list[tuple[str, bytes]]:
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return [("body", body)]
        header = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
        uploads = [
            (
                part.get_filename() or part.get_param("name", header="content-disposition") or "?",
                part.get_payload(decode=True) or b"",
            )
            for part in message.iter_parts()
        ]
        if not uploads:
            raise RequestError(HTTPStatus.BAD_REQUEST, "the multipart request has no file")
        return uploads

    def _check_image(self, name: str, data: bytes) -> None:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                width, height = image.size
        except UnidentifiedImageError as error:
            raise RequestError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"upload {name!r} ({len(data)} bytes) is not an image in a format Pillow reads",
            ) from error
        except (OSError, ValueError) as error:  # a recognised format with a broken header
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"upload {name!r} has a broken image header: {error}"
            ) from error
        if width * height > self.server.max_pixels:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"upload {name!r} is {width}x{height} pixels; the limit is "
                f"{self.server.max_pixels}",
            )

    def _send(self, status: HTTPStatus, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_error(self, error: RequestError) -> None:
        self._send(error.status, {"error": str(error)})

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)


def _predict(model: Any, uploads: list[tuple[str, bytes]]) -> list[dict]:
    images = [data for _, data in uploads]
    if not hasattr(model, "predict_proba"):
        return [
            {"file": name, "prediction": float(value)}
            for (name, _), value in zip(uploads, model.predict(images), strict=True)
        ]
    proba = model.predict_proba(images)
    classes = [str(c) for c in model.classes_]
    return [
        {
            "file": name,
            "class": classes[int(row.argmax())],
            "probabilities": dict(zip(classes, map(float, row), strict=True)),
        }
        for (name, _), row in zip(uploads, proba, strict=True)
    ]
