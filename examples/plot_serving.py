"""
Serving a model: save with skops, answer image uploads over HTTP
================================================================

Train a model, save it with ``sktransfer.io.save`` (a skops file: loading it never runs
code from it, unlike a pickle), and serve it with ``sktransfer.serving.make_server``, the
server behind ``sktransfer serve model.skops``. Clients POST an image (the raw body, or
``multipart/form-data`` files) to ``/predict`` and get JSON: the class and the
probabilities. Uploads are only ever decoded as images; oversized bodies or images and
non-images get a 4xx JSON error that names the upload.

From a shell, the same is::

    sktransfer train photos/ -o model.skops
    sktransfer serve model.skops --port 8000
    curl --data-binary @cat.jpg http://127.0.0.1:8000/predict

Run: ``python examples/plot_serving.py`` (writes ``serving.png``).
"""

# %%
# Train on 160 LFW photos (faces vs non-faces) and save the model.
import io
import json
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from skimage import data
from skimage.color import rgb2gray
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import sktransfer.io
from sktransfer import PretrainedImageFeaturizer
from sktransfer.serving import make_server

faces = data.lfw_subset()
labels = np.array(["face"] * 100 + ["not a face"] * 100)
train = np.r_[0:80, 100:180]
model = make_pipeline(PretrainedImageFeaturizer(progress=False), LogisticRegression(max_iter=1000))
model.fit(faces[train], labels[train])
path = Path(tempfile.mkdtemp()) / "faces.skops"
sktransfer.io.save(model, path)
print(f"saved {path.name}: {path.stat().st_size / 1e3:.0f} kB (the network is rebuilt on load)")

# %%
# Serve the loaded model on a free port of 127.0.0.1, in a background thread.
server = make_server(sktransfer.io.load(path), "127.0.0.1", 0)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}"


def post(body: bytes) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "/predict", body)) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def encode(image: np.ndarray, kind: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=kind)
    return buffer.getvalue()


# %%
# Photos the model never saw, sent as a client would: encoded files. It learnt from tight
# gray crops, so the whole colour portrait of the astronaut is "not a face" to it, and a
# gray crop of her face is a face: a served model answers for the data it was trained on.
astronaut = data.astronaut()
uploads = {
    "held-out face": (faces[95] * 255).astype(np.uint8),
    "held-out non-face": (faces[195] * 255).astype(np.uint8),
    "chelsea the cat": data.chelsea(),
    "astronaut, whole": astronaut,
    "astronaut, gray crop": (rgb2gray(astronaut[20:200, 150:320]) * 255).astype(np.uint8),
}
answers = {name: post(encode(image)) for name, image in uploads.items()}
for name, (status, answer) in answers.items():
    print(f"{name:>18}: HTTP {status} {answer['predictions'][0]}")
print("health:", json.load(urllib.request.urlopen(url + "/health")))
print("a text file:", post(b"name,price\nlamp,12\n"))
server.shutdown()

# %%
fig, axes = plt.subplots(1, len(uploads), figsize=(3 * len(uploads), 3.4), layout="constrained")
for ax, (name, image) in zip(axes, uploads.items(), strict=True):
    prediction = answers[name][1]["predictions"][0]
    ax.imshow(image, cmap="gray")
    probability = prediction["probabilities"][prediction["class"]]
    ax.set_title(f"{name}\n→ {prediction['class']} ({probability:.2f})", fontsize=10)
    ax.axis("off")
fig.savefig("serving.png", dpi=110)
