"""Bad image inputs: each gives a correct result, or an error naming its index and path.

Every case goes through ``PretrainedImageFeaturizer.transform`` (the entry point the other
image estimators share) beside a good image. A case either featurizes like a reference
image (features compared by cosine similarity) or fails with an ``ImageLoadError`` that
names sample 1 and, for files, its path. Under ``on_error="warn"`` the whole matrix runs
in one call: failed samples get NaN rows, one warning lists them all, and every other row
equals the row the sample gets alone.
"""

import io
import os
import re
import struct
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from sktransfer import PretrainedImageFeaturizer
from sktransfer.exceptions import ImageLoadError, SktransferWarning
from sktransfer.finetune import FineTunedImageClassifier


@pytest.fixture(scope="module")
def coffee(photos):
    return photos["coffee"][::4, ::4].copy()  # 100 x 150 real photo


def _gray(rgb):
    return np.asarray(Image.fromarray(rgb).convert("L"))


def _jpeg(rgb):
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def _png_header_only(width, height):
    """A PNG that declares ``width x height`` pixels and holds almost no data."""

    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _save(tmp, name, image, **kwargs):
    path = tmp / name
    image.save(path, **kwargs)
    return path


def _write(tmp, name, data):
    path = tmp / name
    path.write_bytes(data)
    return path


def _rotated_jpeg(tmp, coffee):
    image = Image.fromarray(np.rot90(coffee, k=1).copy())  # stored turned a quarter left
    exif = image.getexif()
    exif[0x0112] = 6  # orientation: viewers turn it 90 degrees clockwise
    return _save(tmp, "rotated.jpg", image, exif=exif, quality=95)


def _checkerboard(like):
    y, x = np.indices(like.shape[:2]) // 8
    return np.repeat(((x + y) % 2 * 255).astype(np.uint8)[..., None], 3, axis=-1)


def _animated_gif(tmp, coffee):
    frames = [Image.fromarray(coffee), Image.fromarray(_checkerboard(coffee))]
    return _save(tmp, "animated.gif", frames[0], save_all=True, append_images=frames[1:])


def _fifo(tmp, coffee):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    path = tmp / "pipe.jpg"
    os.mkfifo(path)  # a plain open() would wait forever for a writer
    return path


def _truncated_jpeg(tmp, coffee):
    buffer = io.BytesIO()
    Image.fromarray(coffee).save(buffer, format="JPEG")
    return _write(tmp, "truncated.jpg", buffer.getvalue()[: buffer.tell() // 2])


# name -> (make(tmp, coffee) -> sample, expectation). Expectations:
#   ("like", reference(coffee) -> image, min cosine): featurizes like the reference;
#   ("error", pattern): ImageLoadError for sample 1 whose reason matches the pattern.
CASES = {
    # files that are no image
    "missing path": (lambda t, c: t / "missing.jpg", ("error", "No such file")),
    "a directory": (lambda t, c: t, ("error", "is a directory")),
    "zero-byte file": (lambda t, c: _write(t, "empty.jpg", b""), ("error", "cannot identify")),
    "truncated JPEG": (_truncated_jpeg, ("error", "truncated")),
    "text named .jpg": (
        lambda t, c: _write(t, "notes.jpg", b"shopping list: milk, eggs\n" * 20),
        ("error", "cannot identify"),
    ),
    "named pipe (FIFO)": (_fifo, ("error", "not a regular file")),
    "decompression bomb": (
        lambda t, c: _write(t, "bomb.png", _png_header_only(100_000, 100_000)),
        ("error", "decompression bomb"),
    ),
    # unusual but valid files: decoded like the pixels they hold
    "16-bit PNG": (
        lambda t, c: _save(t, "deep.png", Image.fromarray(_gray(c).astype(np.uint16) * 257)),
        ("like", _gray, 0.9999),
    ),
    "CMYK JPEG": (
        lambda t, c: _save(t, "cmyk.jpg", Image.fromarray(c).convert("CMYK"), quality=95),
        ("like", lambda c: c, 0.97),
    ),
    "palette PNG": (
        lambda t, c: _save(t, "palette.png", Image.fromarray(c).quantize(256)),
        ("like", lambda c: c, 0.97),
    ),
    "LA PNG": (
        lambda t, c: _save(t, "la.png", Image.fromarray(_gray(c)).convert("LA")),
        ("like", _gray, 0.9999),
    ),
    "RGBA PNG": (
        lambda t, c: _save(t, "rgba.png", Image.fromarray(c).convert("RGBA")),
        ("like", lambda c: c, 0.9999),
    ),
    "animated GIF (first frame)": (_animated_gif, ("like", lambda c: c, 0.95)),
    "EXIF rotation": (_rotated_jpeg, ("like", _jpeg, 0.99)),  # unturned: cosine 0.68
    "grayscale PNG": (
        lambda t, c: _save(t, "gray.png", Image.fromarray(_gray(c))),
        ("like", _gray, 0.9999),
    ),
    "1x1 image": (
        lambda t, c: _save(t, "dot.png", Image.fromarray(c[:1, :1])),
        ("like", lambda c: np.broadcast_to(c[:1, :1], (64, 64, 3)).copy(), 0.9999),
    ),
    "very wide (2100x4)": (
        lambda t, c: _save(t, "wide.png", Image.fromarray(np.tile(c[48:52], (1, 14, 1)))),
        ("like", lambda c: np.tile(c[48:52], (1, 14, 1)), 0.9999),
    ),
    # arrays
    "array with NaN": (lambda t, c: np.where(c > 128, np.nan, c / 255), ("error", "NaN")),
    "array with inf": (lambda t, c: np.full((8, 8), np.inf), ("error", "infinite")),
    "float array over 1": (lambda t, c: c.astype(float), ("error", r"values in \[0, 1\]")),
    "negative integers": (lambda t, c: np.full((8, 8), -5, np.int32), ("error", "integer image")),
    "1-D array": (lambda t, c: c.ravel(), ("error", "got shape")),
    "4-D array as one sample": (lambda t, c: c[None], ("error", "got shape")),
    "2 channels": (lambda t, c: c[..., :2], ("error", "got shape")),
    "5 channels": (
        lambda t, c: np.concatenate([c, c[..., :2]], axis=-1),
        ("error", "got shape"),
    ),
    "float array in [0, 1]": (lambda t, c: c / 255.0, ("like", lambda c: c, 0.9999)),
    "an int, not an image": (lambda t, c: 7, ("error", "unsupported sample type int")),
}

if sys.platform.startswith("linux"):
    CASES["/dev/zero"] = (lambda t, c: "/dev/zero", ("error", "not a regular file"))


@pytest.fixture(scope="module")
def featurizer():
    return PretrainedImageFeaturizer(progress=False, batch_size=8).fit([])


def _cosine(a, b):
    return float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.timeout(60)  # a FIFO or /dev/zero must be refused, never read
@pytest.mark.parametrize("case", CASES)
def test_each_bad_input_is_correct_or_names_its_index_and_path(case, featurizer, coffee, tmp_path):
    make, (outcome, *expected) = CASES[case]
    sample = make(tmp_path, coffee)
    if outcome == "like":
        reference, min_cosine = expected
        features = featurizer.transform([coffee, sample])
        assert np.isfinite(features).all()
        assert _cosine(features[1], featurizer.transform([reference(coffee)])[0]) >= min_cosine
        return
    with pytest.raises(ImageLoadError) as info:
        featurizer.transform([coffee, sample])
    [(index, description, reason)] = info.value.failures
    assert index == 1
    assert f"sample 1 ({description})" in str(info.value)
    assert "pass on_error='warn' to get NaN rows" in str(info.value)
    if isinstance(sample, (str, os.PathLike)):
        assert os.fspath(sample) in description
    assert re.search(expected[0], reason), reason


def test_the_animated_gif_gives_its_first_frame_not_another(featurizer, coffee, tmp_path):
    second = _checkerboard(coffee)
    features = featurizer.transform([_animated_gif(tmp_path, coffee), coffee, second])
    assert _cosine(features[0], features[1]) > 0.95
    assert _cosine(features[0], features[2]) < 0.5


@pytest.mark.timeout(120)
@pytest.mark.parametrize("cache", [False, True], ids=["no cache", "cache"])
def test_warn_keeps_the_batch_and_lists_every_failure_once(coffee, tmp_path, cache):
    samples, bad = [], []
    for i, (make, (outcome, *_)) in enumerate(CASES.values()):
        folder = tmp_path / "cases" / str(i)  # one folder per case: "a directory" is its own
        folder.mkdir(parents=True)
        samples.append(make(folder, coffee))
        if outcome == "error":
            bad.append(i)
    featurizer = PretrainedImageFeaturizer(
        progress=False, batch_size=4, on_error="warn", cache=tmp_path / "cache" if cache else None
    ).fit([])
    with pytest.warns(SktransferWarning) as record:
        features = featurizer.transform(samples)
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith(f"{len(bad)} of {len(samples)} images could not be loaded")
    for i in bad:
        assert f"{i} (" in message
    failed = np.isnan(features).all(axis=1)
    np.testing.assert_array_equal(np.flatnonzero(failed), bad)
    good = [i for i in range(len(samples)) if i not in bad]
    alone = PretrainedImageFeaturizer(progress=False).fit_transform([samples[i] for i in good])
    np.testing.assert_allclose(features[good], alone, atol=1e-5)


def test_mixed_input_kinds_in_one_call_agree(featurizer, coffee, tmp_path):
    path = _save(tmp_path, "coffee.png", Image.fromarray(coffee))
    samples = [
        path,
        str(path),
        path.read_bytes(),
        Image.fromarray(coffee),
        coffee,
        coffee / 255.0,
        coffee.astype(np.uint16) * 257,
    ]
    features = featurizer.transform(np.array(samples, dtype=object))
    for row in features[1:]:
        np.testing.assert_allclose(row, features[0], atol=1e-5)


def test_fine_tuning_on_a_bad_file_names_its_index_and_path(lfw, tmp_path):
    images, labels = lfw
    broken = _write(tmp_path, "broken.png", b"\x89PNG not really")
    X = [*images[:6], broken, *images[100:105]]
    y = [*labels[:6], 1, *labels[100:105]]
    model = FineTunedImageClassifier(augment="default", max_epochs=1, progress=False)
    with pytest.raises(ImageLoadError, match=r"sample 6 \(path '.*broken\.png'\)"):
        model.fit(X, y)
    assert not hasattr(model, "net_")


def _lazy_jpeg(array, size):
    buffer = io.BytesIO()
    Image.fromarray(array).resize((size, size)).save(buffer, format="JPEG", quality=95)
    return Image.open(io.BytesIO(buffer.getvalue()))  # header read, pixels not decoded


def test_the_caller_s_pil_images_are_never_changed(featurizer, coffee):
    lazy = _lazy_jpeg(coffee, 2048)
    featurizer.transform([lazy])
    assert lazy.size == (2048, 2048) and lazy.mode == "RGB"  # draft() used to shrink it
    loaded = Image.fromarray(coffee)
    before = np.asarray(loaded).copy()
    featurizer.transform([loaded])
    np.testing.assert_array_equal(np.asarray(loaded), before)


@pytest.mark.parametrize("cache", [False, True], ids=["no cache", "cache"])
def test_one_lazy_pil_image_repeated_across_threads_decodes_once_each(coffee, cache, tmp_path):
    featurizer = PretrainedImageFeaturizer(
        n_jobs=2, batch_size=2, progress=False, cache=tmp_path if cache else None
    ).fit([])
    lazy = _lazy_jpeg(coffee, 1024)
    rows = featurizer.transform([lazy] * 8)  # raced: "image file is truncated"
    reference = featurizer.transform([_lazy_jpeg(coffee, 1024)])
    np.testing.assert_allclose(rows, np.repeat(reference, 8, axis=0), atol=1e-5)
