"""Serve a fitted image or text model over HTTP: ``POST /predict`` and ``GET /health``.

Built on the standard library's threading HTTP server, for a model behind a reverse proxy
or on a trusted network (``sktransfer serve`` listens on 127.0.0.1 unless told otherwise).

- An image model's ``POST /predict`` takes the image as the raw request body (``curl
  --data-binary @cat.jpg``) or one or more files as ``multipart/form-data`` (``curl -F
  file=@cat.jpg``), and answers ``{"predictions": [{"file": ..., "class": ...,
  "probabilities": {...}}]}`` (``"prediction"`` for a regressor).
- A text model's ``POST /predict`` takes JSON, ``{"texts": ["...", ...]}`` (``null`` is a
  missing text, embedded as the empty one), and answers the same with ``"index"`` (the
  text's position in the request) in place of ``"file"``. Anything else in the list, a
  body that is not that JSON object, or more than ``max_texts`` texts is refused (400 or
  413) naming the index, before the model runs.
- Uploads are only ever decoded as images, texts only ever read as strings: a client
  cannot make the server read a path.
- Every request is bounded before work is done on it: a body over ``max_bytes`` is refused
  with 413 before it is read; a multipart body with more than ``max_parts`` parts, a part
  header over 8 KiB or a nested multipart part is refused before it is parsed; an image in a
  format outside :data:`ACCEPTED_FORMATS` gets 415 and one over ``max_pixels`` 413, both
  from its header, before any decoding; a broken image gets 400. A client has ``timeout``
  seconds to send its *whole* request (408 after that, however it trickles), and at most
  ``max_connections`` are handled at once: one more gets 503 at once. Every answer,
  errors included, is JSON (``{"error": ...}``, naming the upload). Predictions run one
  request at a time.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
import logging
import re
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from numbers import Integral, Real
from typing import Any

from sklearn.utils._param_validation import HasMethods, Interval, validate_params

from ._input_kind import input_kind
from .exceptions import ImageLoadError

__all__ = [
    "ACCEPTED_FORMATS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_PARTS",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_TEXTS",
    "make_server",
]

DEFAULT_MAX_BYTES = 16 * 2**20
DEFAULT_MAX_PIXELS = 40_000_000  # 8000 x 5000
DEFAULT_MAX_PARTS = 16
DEFAULT_MAX_CONNECTIONS = 8
DEFAULT_MAX_TEXTS = 256
#: The image formats the server decodes. In each, the header states the size that decoding
#: allocates, so ``max_pixels`` is checked before any pixel is decoded. Containers such as
#: ICO and ICNS decode while they are opened, and are refused.
ACCEPTED_FORMATS = ("BMP", "GIF", "JPEG", "PNG", "TIFF", "WEBP")  # JPEG includes MPO
_MAX_PART_HEADER = 8 * 2**10
_MAX_CONTENT_TYPE = 1024

logger = logging.getLogger(__name__)


class RequestError(Exception):
    """A request the server refuses, with its HTTP status."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


@validate_params(
    {
        "model": [HasMethods(["predict"])],
        "host": [str],
        "port": [Interval(Integral, 0, 65535, closed="both")],
        "max_bytes": [Interval(Integral, 1, None, closed="left")],
        "max_pixels": [Interval(Integral, 1, None, closed="left")],
        "max_parts": [Interval(Integral, 1, None, closed="left")],
        "max_texts": [Interval(Integral, 1, None, closed="left")],
        "max_connections": [Interval(Integral, 1, None, closed="left")],
        "timeout": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def make_server(
    model: Any,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_parts: int = DEFAULT_MAX_PARTS,
    max_texts: int = DEFAULT_MAX_TEXTS,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    timeout: float = 30.0,
) -> ThreadingHTTPServer:
    """An HTTP server (not yet serving) for ``model``; call ``serve_forever()`` on it.

    Parameters
    ----------
    model : fitted estimator
        Takes images (a pipeline that starts with
        :class:`~sktransfer.PretrainedImageFeaturizer`, a fine-tuned image estimator) or
        texts (a pipeline that starts with :class:`~sktransfer.TransformerTextEmbedder` or
        :class:`~sktransfer.Word2VecEmbedder`, a fine-tuned text estimator), or a search
        over any of them. Any other model raises a ValueError here.
    host, port : str, int
        Where to listen; port 0 picks a free port (see ``server.server_address``).
    max_bytes : int
        Largest request body accepted.
    max_pixels : int
        Largest image (width x height) accepted, checked from its header.
    max_parts : int
        Most files in one multipart request (image models).
    max_texts : int
        Most texts in one request (text models).
    max_connections : int
        Requests handled at once; one more is answered 503 without being read.
    timeout : float
        Seconds a client may take to send its whole request.
    """
    kind = input_kind(model)
    if kind is None:
        raise ValueError(
            f"The server predicts from images or texts; this {type(model).__name__} takes "
            "neither. Serve a model that starts with an sktransfer featurizer, embedder or "
            "fine-tuned estimator."
        )
    handler = type("Handler", (_Handler,), {"timeout": timeout})
    server = _Server((host, port), handler)
    server.model = model
    server.kind = kind
    server.max_texts = max_texts
    server.max_bytes = max_bytes
    server.max_pixels = max_pixels
    server.max_parts = max_parts
    server.slots = threading.BoundedSemaphore(max_connections)
    server.predict_lock = threading.Lock()
    return server


class _Server(ThreadingHTTPServer):
    """A threading server with a bounded number of requests in flight."""

    daemon_threads = True

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def _refuse(self, request: socket.socket) -> None:
        body = json.dumps({"error": "the server is busy; retry shortly"}).encode()
        head = (
            "HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Retry-After: 1\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            request.settimeout(1.0)
            request.sendall(head.encode() + body)
            request.setblocking(False)
            while request.recv(65536):  # drain what arrived, so closing sends no reset
                pass
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):  # the client went away
            logger.info("%s disconnected: %s", client_address[0], error)
        else:
            logger.exception("error while serving %s", client_address[0])


class _Handler(BaseHTTPRequestHandler):
    server_version = "sktransfer"
    error_content_type = "application/json"

    def setup(self) -> None:
        super().setup()
        self.expired = False
        self.deadline = threading.Timer(self.timeout, self._expire)
        self.deadline.daemon = True
        self.deadline.start()

    def finish(self) -> None:
        self.deadline.cancel()
        super().finish()

    def _expire(self) -> None:
        """The whole-request deadline: end the request however slowly it trickles in."""
        self.expired = True
        try:
            self.connection.shutdown(socket.SHUT_RD)  # a blocked read returns at once
        except OSError:
            pass

    def do_GET(self) -> None:
        self.deadline.cancel()
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
                "input": self.server.kind,
                "classes": None if classes is None else [str(c) for c in classes],
            },
        )

    def do_POST(self) -> None:
        try:
            if self.path != "/predict":
                raise RequestError(HTTPStatus.NOT_FOUND, "GET /health or POST /predict")
            body = self._body()
            self.deadline.cancel()  # the request is in: the deadline covers receiving it
            if self.server.kind == "texts":
                inputs = list(enumerate(self._texts(body)))
            else:
                uploads = self._uploads(body)
                inputs = [(name, self._open_image(name, data)) for name, data in uploads]
            with self.server.predict_lock:
                predictions = _predict(self.server.model, inputs, self.server.kind)
            self._send(HTTPStatus.OK, {"predictions": predictions})
        except RequestError as error:
            self._send_error(error)
        except ImageLoadError as error:  # the header was fine, the pixels are not
            self._send_error(RequestError(HTTPStatus.BAD_REQUEST, str(error)))
        except (ConnectionError, TimeoutError):
            raise  # the client went away: handle_error logs it in one line
        except Exception as error:  # the server outlives any model failure
            logger.exception("prediction failed")
            message = f"prediction failed: {type(error).__name__}"
            self._send_error(RequestError(HTTPStatus.INTERNAL_SERVER_ERROR, message))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        """http.server's own errors (bad request line, unknown method), as JSON too."""
        if self.expired:
            code, message = HTTPStatus.REQUEST_TIMEOUT, self._late()
        status = HTTPStatus(code)
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # unparsed request line: answer with a status line
            self.request_version = "HTTP/1.0"
        self._send_error(RequestError(status, message or status.phrase))

    def _late(self) -> str:
        return f"the request did not arrive in {self.timeout:g} s"

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length header")
        if not re.fullmatch(r"[0-9]{1,18}", length.strip()):
            raise RequestError(HTTPStatus.BAD_REQUEST, f"bad Content-Length {length[:40]!r}")
        size = int(length)
        if size > self.server.max_bytes:
            self.close_connection = True
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the request has {size} bytes; the limit is {self.server.max_bytes}",
            )
        try:
            body = self.rfile.read(size)
        except (TimeoutError, OSError) as error:
            self.close_connection = True
            raise RequestError(HTTPStatus.REQUEST_TIMEOUT, self._late()) from error
        if self.expired:
            self.close_connection = True
            raise RequestError(HTTPStatus.REQUEST_TIMEOUT, self._late())
        if len(body) < size:
            raise RequestError(HTTPStatus.BAD_REQUEST, "the request body ended early")
        if not body:
            what = "texts" if self.server.kind == "texts" else "image"
            raise RequestError(HTTPStatus.BAD_REQUEST, f"the request has no {what}")
        return body

    def _texts(self, body: bytes) -> list[str | None]:
        """The texts of a ``{"texts": [...]}`` JSON body, each a string or null."""
        content_type = self.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise RequestError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"this model takes texts: send Content-Type application/json (not "
                f'{content_type[:60] or "none"!r}) with a body {{"texts": [...]}}',
            )
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as error:  # bad JSON, bad UTF-8, deep nesting
            message = str(error)[:120] if isinstance(error, ValueError) else "nested too deep"
            raise RequestError(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {message}") from None
        texts = payload.get("texts") if isinstance(payload, dict) else None
        if not isinstance(texts, list):
            raise RequestError(
                HTTPStatus.BAD_REQUEST, 'send a JSON object {"texts": [...]}, a list of strings'
            )
        if not texts:
            raise RequestError(HTTPStatus.BAD_REQUEST, "the request has no texts")
        if len(texts) > self.server.max_texts:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the request has {len(texts)} texts; the limit is {self.server.max_texts}",
            )
        for index, text in enumerate(texts):
            if text is not None and not isinstance(text, str):
                raise RequestError(
                    HTTPStatus.BAD_REQUEST,
                    f"text {index} is a JSON {_json_type(text)}; send strings (null: missing)",
                )
        return texts

    def _uploads(self, body: bytes) -> list[tuple[str, bytes]]:
        content_type = self.headers.get("Content-Type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            return [("body", body)]
        if len(content_type) > _MAX_CONTENT_TYPE:
            raise RequestError(HTTPStatus.BAD_REQUEST, "the Content-Type header is too long")
        boundary = self.headers.get_boundary()
        if not boundary:
            raise RequestError(HTTPStatus.BAD_REQUEST, "the multipart request has no boundary")
        self._check_parts(body, boundary.encode("latin-1"))
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

    def _check_parts(self, body: bytes, boundary: bytes) -> None:
        """Bound the parser's work before it runs: parts, header sizes, no nesting."""
        parts = body.split(b"--" + boundary)[1:-1]
        if len(parts) > self.server.max_parts:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the request has {len(parts)} parts; the limit is {self.server.max_parts}",
            )
        for k, part in enumerate(parts):
            end = part.find(b"\r\n\r\n")
            if end > _MAX_PART_HEADER or (end < 0 and len(part) > _MAX_PART_HEADER):
                raise RequestError(
                    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                    f"the header of part {k} is over {_MAX_PART_HEADER} bytes",
                )
            if re.search(rb"(?im)^content-type:[ \t]*multipart/", part[: max(end, 0)]):
                raise RequestError(
                    HTTPStatus.BAD_REQUEST, f"part {k} is a nested multipart; send files only"
                )

    def _open_image(self, name: str, data: bytes):
        """The upload opened from its header, in an accepted format, within the pixel limit."""
        from PIL import Image, UnidentifiedImageError

        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)  # header only
        except Image.DecompressionBombError as error:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"upload {name!r} is too large: {error}"
            ) from error
        except UnidentifiedImageError as error:
            raise RequestError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"upload {name!r} ({len(data)} bytes) is not an image in an accepted format "
                f"({', '.join(ACCEPTED_FORMATS)})",
            ) from error
        except Exception as error:  # a recognised format with a broken header
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"upload {name!r} has a broken image header: {error}"
            ) from error
        width, height = image.size
        if width * height > self.server.max_pixels:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"upload {name!r} is {width}x{height} pixels; the limit is "
                f"{self.server.max_pixels}",
            )
        return image

    def _send(self, status: HTTPStatus, payload: dict) -> None:
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (ConnectionError, TimeoutError) as error:  # the client left before the answer
            logger.info("%s disconnected before the answer: %s", self.address_string(), error)
            self.close_connection = True

    def _send_error(self, error: RequestError) -> None:
        self._send(error.status, {"error": str(error)})

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)


def _json_type(value: Any) -> str:
    return {bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _predict(model: Any, inputs: list[tuple[Any, Any]], kind: str) -> list[dict]:
    """One answer per input, named by its upload's file name or its text's index."""
    # The images as the server opened them (accepted format, size checked): the model
    # decodes these objects, never the raw bytes again.
    key = "index" if kind == "texts" else "file"
    samples = [sample for _, sample in inputs]
    if not hasattr(model, "predict_proba"):
        return [
            {key: name, "prediction": float(value)}
            for (name, _), value in zip(inputs, model.predict(samples), strict=True)
        ]
    proba = model.predict_proba(samples)
    classes = [str(c) for c in model.classes_]
    return [
        {
            key: name,
            "class": classes[int(row.argmax())],
            "probabilities": dict(zip(classes, map(float, row), strict=True)),
        }
        for (name, _), row in zip(inputs, proba, strict=True)
    ]
