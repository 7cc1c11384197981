"""The HTTP server, driven by real clients on 127.0.0.1 (bounded requests, timeouts)."""

import contextlib
import io
import json
import logging
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib

import numpy as np
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import PretrainedImageFeaturizer, TransformerTextEmbedder
from sktransfer import io as skio
from sktransfer.serving import make_server

TIMEOUT = 60


def _png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray((np.asarray(array) * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photos(lfw):
    """Training photos, and two held-out PNG files: a face and a non-face."""
    images, labels = lfw
    names = np.where(labels == 1, "face", "other")
    train = np.r_[0:40, 100:140]
    return images[train], names[train], _png(images[90]), _png(images[190])


@pytest.fixture(scope="module")
def model(photos):
    images, names, _, _ = photos
    return make_pipeline(
        PretrainedImageFeaturizer(progress=False), LogisticRegression(max_iter=1000)
    ).fit(images, names)


@contextlib.contextmanager
def _serving(model, **limits):
    """The URL of a server for ``model`` running in a thread, shut down on exit."""
    server = make_server(model, port=0, **limits)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


@pytest.fixture(scope="module")
def server(model):
    with _serving(model, max_bytes=200_000, max_pixels=250_000, timeout=5) as url:
        yield url


def _request(url, data=None, headers=None):
    """(status, JSON body) of one request; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _multipart(files):
    boundary = "sktransfer-test-boundary"
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    )
    return body + f"--{boundary}--\r\n".encode(), {
        "Content-Type": f"multipart/form-data; boundary={boundary}"
    }


def test_health_names_the_model_and_its_classes(server):
    status, body = _request(server + "/health")
    assert status == 200
    assert body == {
        "status": "ok",
        "model": "Pipeline",
        "input": "images",
        "classes": ["face", "other"],
    }


def test_a_raw_upload_gets_the_class_and_probabilities(server, photos, model):
    _, _, face, _ = photos
    status, body = _request(server + "/predict", face, {"Content-Type": "image/png"})
    assert status == 200
    (prediction,) = body["predictions"]
    assert prediction["class"] == "face" and prediction["file"] == "body"
    expected = model.predict_proba([face])[0]
    np.testing.assert_allclose(list(prediction["probabilities"].values()), expected, atol=1e-6)


def test_multipart_uploads_are_predicted_in_order(server, photos):
    _, _, face, other = photos
    body, headers = _multipart([("me.png", face), ("wall.png", other)])
    status, answer = _request(server + "/predict", body, headers)
    assert status == 200
    assert [(p["file"], p["class"]) for p in answer["predictions"]] == [
        ("me.png", "face"),
        ("wall.png", "other"),
    ]


def test_bad_uploads_get_json_4xx_naming_the_upload(server, photos):
    _, _, face, _ = photos
    big = _png(np.zeros((600, 600)))  # 360,000 pixels, over the 250,000 limit
    cases = [
        (b"just some text", {}, 415, "is not an image"),
        (face[: len(face) // 2], {}, 400, "sample 0"),  # a truncated PNG: header fine
        (big, {}, 413, "600x600 pixels"),
        (*_multipart([("notes.txt", b"hello")]), 415, "'notes.txt' (5 bytes) is not an image"),
        (b"/etc/passwd", {}, 415, "is not an image"),  # a path is only bytes here
    ]
    for data, headers, code, message in cases:
        status, body = _request(server + "/predict", data, headers)
        assert status == code and message in body["error"], (status, body)
    assert _request(server + "/nowhere")[0] == 404
    assert _request(server + "/health")[0] == 200  # still serving


def _read_all(connection) -> bytes:
    """Everything the server sends until it closes the connection (HTTP/1.0)."""
    chunks = []
    while chunk := connection.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


def _raw(url, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as connection:
        connection.sendall(request)
        return _read_all(connection)


def test_size_limits_answer_before_reading_the_body(server):
    head = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"
    assert _raw(server, head).startswith(b"HTTP/1.0 413")  # no gigabyte is ever sent
    assert _raw(server, b"POST /predict HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.0 411")


def test_a_stalled_client_is_cut_off_and_others_are_served(server, photos):
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as stalled:
        stalled.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 100\r\n\r\npartial")
        assert _request(server + "/health")[0] == 200  # served meanwhile
        answer = _read_all(stalled)  # after the server's 5 s timeout
    assert answer.startswith(b"HTTP/1.0 408") and b"did not arrive in 5 s" in answer


@pytest.mark.slow
def test_sktransfer_serve_answers_over_http(model, photos, tmp_path):
    _, _, face, _ = photos
    skio.save(model, tmp_path / "model.skops")
    command = [sys.executable, "-m", "sktransfer", "serve", str(tmp_path / "model.skops")]
    process = subprocess.Popen(
        [*command, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline()  # "serving ... at http://127.0.0.1:PORT ..."
        assert " at http://127.0.0.1:" in line, process.stderr.read()
        url = line.split(" at ")[1].split()[0]
        assert _request(url + "/health")[1]["classes"] == ["face", "other"]
        status, body = _request(url + "/predict", face)
        assert status == 200 and body["predictions"][0]["class"] == "face"
    finally:
        process.terminate()
        process.wait(TIMEOUT)


# -- bounded work per request ---------------------------------------------------------------


@pytest.fixture
def strict_server(model):
    limits = {"max_pixels": 250_000, "max_parts": 3, "max_connections": 2, "timeout": 2}
    with _serving(model, **limits) as url:
        yield url


def _png_header(width, height) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels (and holds almost none)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _ico_holding(png: bytes) -> bytes:
    """An ICO whose directory says 256x256 and whose image is the given PNG."""
    entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(png), 22)
    return struct.pack("<HHH", 0, 1, 1) + entry + png


def test_part_counts_header_sizes_and_nesting_are_refused_before_parsing(strict_server, photos):
    _, _, face, _ = photos
    body, headers = _multipart([(f"{i}.png", face) for i in range(300)])
    status, answer = _request(strict_server + "/predict", body, headers)
    assert status == 413 and "300 parts; the limit is 3" in answer["error"]
    params = "".join(f'; p{i}="{"x" * 20}"' for i in range(1000))  # a 27 KiB part header
    body = (
        b"--b\r\nContent-Disposition: form-data; name=file"
        + params.encode()
        + b"\r\n\r\n"
        + face
        + b"\r\n--b--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    assert _request(strict_server + "/predict", body, headers)[0] == 431
    inner = b"--c\r\n\r\nx\r\n--c--\r\n"
    nested = b"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n" + inner + b"--b--\r\n"
    status, answer = _request(strict_server + "/predict", nested, headers)
    assert status == 400 and "nested multipart" in answer["error"]


def test_every_image_error_is_a_json_4xx_decided_from_the_header(strict_server):
    huge = _png_header(30_000, 30_000)  # over Pillow's decompression-bomb limit
    status, answer = _request(strict_server + "/predict", huge)
    assert status == 413 and "too large" in answer["error"]
    big = _png_header(1000, 1000)  # over this server's 250,000 pixels
    assert _request(strict_server + "/predict", big)[0] == 413
    buffer = io.BytesIO()
    Image.new("L", (3000, 3000)).save(buffer, format="PNG")
    ico = _ico_holding(buffer.getvalue())  # 27 KiB that decodes to 9 megapixels
    status, answer = _request(strict_server + "/predict", ico)
    assert status == 415 and "accepted format" in answer["error"]


def test_bad_request_lines_methods_and_lengths_get_json(strict_server):
    for request, code in [
        (b"PUT /predict HTTP/1.1\r\nHost: x\r\n\r\n", b"501"),
        (b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", b"501"),
        (b"NOT A REQUEST\r\n\r\n", b"400"),
        ("POST /predict HTTP/1.1\r\nContent-Length: ²\r\n\r\n".encode(), b"400"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: -5\r\n\r\n", b"400"),
    ]:
        answer = _raw(strict_server, request)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split()[1] == code, answer
        assert b"application/json" in head and "error" in json.loads(body)


@pytest.mark.timeout(60)
def test_the_timeout_bounds_the_whole_request_however_it_trickles(strict_server):
    host, port = strict_server.removeprefix("http://").split(":")
    request = b"POST /predict HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + b"x" * 100
    start = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as slow:
        try:
            for byte in request:  # one byte every 0.3 s: each read is quick, the whole is not
                slow.sendall(bytes([byte]))
                time.sleep(0.3)
        except OSError:
            pass  # the server closed the reading side
        answer = _read_all(slow)
    assert time.monotonic() - start < 10  # 2 s allowed; sending it all would take 45 s
    assert answer.startswith(b"HTTP/1.0 408") and b"did not arrive in 2 s" in answer


@pytest.mark.timeout(60)
def test_connections_beyond_the_limit_get_503_at_once(strict_server):
    host, port = strict_server.removeprefix("http://").split(":")
    stalled = [socket.create_connection((host, int(port)), timeout=TIMEOUT) for _ in range(2)]
    try:
        for connection in stalled:
            connection.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 100\r\n\r\n")
        time.sleep(0.3)  # both are being handled (waiting for their bodies)
        answer = _raw(strict_server, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.0 503") and b"busy" in answer
    finally:
        for connection in stalled:
            connection.close()
    time.sleep(2.5)  # the stalled ones time out and free their places
    assert _request(strict_server + "/health")[0] == 200


def test_a_client_that_leaves_is_logged_in_one_line(strict_server, photos, caplog):
    _, _, face, _ = photos
    host, port = strict_server.removeprefix("http://").split(":")
    with caplog.at_level(logging.INFO, logger="sktransfer.serving"):
        for _ in range(5):
            with socket.create_connection((host, int(port)), timeout=TIMEOUT) as leaving:
                leaving.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                leaving.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(face))
                leaving.sendall(face[:100])
        time.sleep(2.5)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_a_model_that_takes_neither_images_nor_texts_is_not_served(lfw):
    images, labels = lfw
    train = np.r_[0:10, 100:110]
    pixels = LogisticRegression().fit(images[train].reshape(20, -1), labels[train])
    with pytest.raises(ValueError, match="takes neither"):
        make_server(pixels, port=0)


# -- text models: JSON texts in -------------------------------------------------------------


@pytest.fixture(scope="module")
def spam_model(sms):
    """Frozen MiniLM sentence embeddings + LogisticRegression on 300 real SMS messages."""
    return make_pipeline(
        TransformerTextEmbedder(progress=False), LogisticRegression(max_iter=1000)
    ).fit(sms["text"][:300], sms["label"][:300])


@pytest.fixture(scope="module")
def text_server(spam_model):
    with _serving(spam_model, max_bytes=20_000, max_texts=4, timeout=5) as url:
        yield url


def _json(payload) -> tuple[bytes, dict]:
    return json.dumps(payload).encode(), {"Content-Type": "application/json"}


SPAM = "WINNER!! You have won a £1000 cash prize. Call 09061701461 now to claim"
HAM = "Sorry, I'll be late for dinner, the bus is stuck in traffic"


def test_a_text_model_answers_each_text_by_its_index(text_server, spam_model):
    assert _request(text_server + "/health")[1]["input"] == "texts"
    texts = [SPAM, HAM, None, "🎉 免费 приз"]
    status, body = _request(text_server + "/predict", *_json({"texts": texts}))
    assert status == 200
    predictions = body["predictions"]
    assert [p["index"] for p in predictions] == [0, 1, 2, 3]
    assert [p["class"] for p in predictions[:2]] == ["spam", "ham"]
    expected = spam_model.predict_proba(texts)
    got = [list(p["probabilities"].values()) for p in predictions]
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b"WIN cash", {"Content-Type": "text/plain"}, 415, "send Content-Type application/json"),
        (b"{not json", {"Content-Type": "application/json"}, 400, "the body is not JSON"),
        (b'{"texts": ["caf\xe9"]}', {"Content-Type": "application/json"}, 400, "not JSON"),
        (b"[" * 50_000, {"Content-Type": "application/json"}, 413, "the limit is 20000"),
        (b"[" * 10_000, {"Content-Type": "application/json"}, 400, "the body is not JSON"),
        (*_json(["a list", "not an object"]), 400, 'send a JSON object {"texts": [...]}'),
        (*_json({"text": ["misspelt key"]}), 400, 'send a JSON object {"texts": [...]}'),
        (*_json({"texts": []}), 400, "the request has no texts"),
        (*_json({"texts": ["fine", 3]}), 400, "text 1 is a JSON number"),
        (*_json({"texts": ["fine", "ok", {"a": 1}]}), 400, "text 2 is a JSON object"),
        (*_json({"texts": ["x"] * 5}), 413, "the request has 5 texts; the limit is 4"),
    ],
    ids=lambda value: value if isinstance(value, int) else None,
)
def test_bad_text_requests_get_json_4xx_before_the_model_runs(
    text_server, body, headers, status, message
):
    answer = _request(text_server + "/predict", body, headers)
    assert answer[0] == status and message in answer[1]["error"], answer


@pytest.mark.slow
def test_sktransfer_serve_answers_texts_over_http(spam_model, tmp_path):
    skio.save(spam_model, tmp_path / "spam.skops")
    command = [sys.executable, "-m", "sktransfer", "serve", str(tmp_path / "spam.skops")]
    process = subprocess.Popen(
        [*command, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline()
        assert " at http://127.0.0.1:" in line, process.stderr.read()
        url = line.split(" at ")[1].split()[0]
        status, body = _request(url + "/predict", *_json({"texts": [HAM, SPAM]}))
        assert status == 200
        assert [p["class"] for p in body["predictions"]] == ["ham", "spam"]
    finally:
        process.terminate()
        process.wait(TIMEOUT)
