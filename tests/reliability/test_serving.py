"""The HTTP server, driven by real clients on 127.0.0.1 (bounded requests, timeouts)."""

import io
import json
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import PretrainedImageFeaturizer
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


@pytest.fixture(scope="module")
def server(model):
    server = make_server(model, port=0, max_bytes=200_000, max_pixels=250_000, timeout=5)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(TIMEOUT)


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
    assert body == {"status": "ok", "model": "Pipeline", "classes": ["face", "other"]}


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
