import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sktransfer.datasets import fetch_mnist_test, fetch_sms_spam, load_image_folder


def test_sms_spam_is_the_real_collection(sms):
    assert sms.shape == (5574, 2)
    assert sms["label"].value_counts().to_dict() == {"ham": 4827, "spam": 747}
    assert sms["text"][0].startswith("Go until jurong point")


def test_the_mnist_sample_is_the_start_of_the_real_test_set(mnist):
    images, labels = mnist
    assert images.shape == (2000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [175, 234, 219, 207, 217, 179, 178, 205, 192, 194]
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]


def test_fetch_reads_the_original_files_from_data_home(sms, mnist, tmp_path):
    folder = tmp_path / "sms_spam"
    folder.mkdir()
    lines = [f"{label}\t{text}" for label, text in zip(sms["label"], sms["text"], strict=True)]
    (folder / "SMSSpamCollection").write_text("\n".join(lines) + "\n")
    assert fetch_sms_spam(tmp_path, download_if_missing=False).equals(sms)
    images, labels = mnist  # written in MNIST's IDX format, headers included
    folder = tmp_path / "mnist_t10k"
    folder.mkdir()
    header = struct.pack(">IIII", 2051, len(images), 28, 28)
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(header + images.tobytes())
    with gzip.open(folder / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 2049, len(labels)) + labels.tobytes())
    read_images, read_labels = fetch_mnist_test(tmp_path, download_if_missing=False)
    np.testing.assert_array_equal(read_images, images)
    np.testing.assert_array_equal(read_labels, labels)


@pytest.mark.parametrize("fetch", [fetch_sms_spam, fetch_mnist_test])
def test_missing_files_without_download_name_the_path(fetch, tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        fetch(tmp_path, download_if_missing=False)


def _write_faces(folder, lfw, rows, suffix=".png"):
    """Real LFW faces / non-faces as image files under ``folder/<label>/``."""
    images, labels = lfw
    for i in rows:
        label = "face" if labels[i] == 1 else "not_face"
        (folder / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray((images[i] * 255).astype(np.uint8)).save(folder / label / f"{i}{suffix}")


def test_image_folder_lists_class_folders_and_skips_what_is_not_an_image(tmp_path, lfw, caplog):
    _write_faces(tmp_path, lfw, [0, 1, 2, 150, 151])
    _write_faces(tmp_path, lfw, [3], suffix=".JPG")  # upper-case extensions count
    (tmp_path / "face" / "notes.txt").write_text("not an image")
    (tmp_path / "face" / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "face" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "face" / "1.png").replace(tmp_path / "face" / ".ipynb_checkpoints" / "1.png")
    (tmp_path / ".hidden_class").mkdir()
    with caplog.at_level("INFO", logger="sktransfer"):
        frame = load_image_folder(tmp_path)
    assert list(frame.columns) == ["path", "label"]
    assert [Path(p).name for p in frame["path"]] == [
        "0.png",
        "2.png",
        "3.JPG",
        "150.png",
        "151.png",
    ]
    assert frame["label"].tolist() == ["face"] * 3 + ["not_face"] * 2
    assert frame.attrs["skipped"] == 1 and "notes.txt" in caplog.text


def test_image_folder_with_split_folders(tmp_path, lfw):
    _write_faces(tmp_path / "train", lfw, [0, 1, 100, 101])
    _write_faces(tmp_path / "test", lfw, [2, 102])
    frame = load_image_folder(tmp_path)
    assert frame.groupby(["split", "label"]).size().to_dict() == {
        ("test", "face"): 1,
        ("test", "not_face"): 1,
        ("train", "face"): 2,
        ("train", "not_face"): 2,
    }


def test_image_folder_feeds_a_featurizer_pipeline(tmp_path, lfw):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    from sktransfer import LeakageSafeKFold, PretrainedImageFeaturizer

    _write_faces(tmp_path, lfw, range(0, 200, 5))  # 20 faces, 20 non-faces
    frame = load_image_folder(tmp_path)
    pipe = make_pipeline(
        PretrainedImageFeaturizer(progress=False), LogisticRegression(max_iter=1000)
    )
    cv = LeakageSafeKFold(4, shuffle=True, random_state=0)
    assert cross_val_score(pipe, frame["path"], frame["label"], cv=cv).mean() >= 0.9


@pytest.mark.parametrize(
    ("layout", "error", "message"),
    [
        ("missing", FileNotFoundError, "is not a folder"),
        ("empty", FileNotFoundError, "No class folder"),
        ("loose", ValueError, "lie directly in"),
        ("empty_class", FileNotFoundError, "no valid file for the classes empty"),
        ("empty_split", FileNotFoundError, "No class folder in split folder"),
    ],
)
def test_image_folder_refuses_malformed_trees(tmp_path, lfw, layout, error, message):
    root = tmp_path / "root"
    if layout != "missing":
        root.mkdir()
    if layout == "loose":
        _write_faces(root, lfw, [0])
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(root / "stray.png")
    if layout == "empty_class":
        _write_faces(root, lfw, [0])
        (root / "empty").mkdir()
    if layout == "empty_split":
        _write_faces(root / "train", lfw, [0])
        (root / "test").mkdir()
    with pytest.raises(error, match=message):
        load_image_folder(root)


def test_blend_onto_photos_keeps_the_strokes_and_takes_the_colours_of_the_photos():
    from sktransfer.datasets import blend_onto_photos, load_mnist_sample

    digits, _ = load_mnist_sample()
    photo = np.zeros((40, 40, 3), dtype=np.uint8)
    photo[..., 0] = 200  # one red photo: |200 - ink| in red, the ink itself elsewhere
    blended = blend_onto_photos(digits[:3], [photo], random_state=0)
    assert blended.shape == (3, 28, 28, 3) and blended.dtype == np.uint8
    np.testing.assert_array_equal(blended[..., 1], digits[:3])
    np.testing.assert_array_equal(blended[..., 0], np.abs(200 - digits[:3].astype(int)))
    default = blend_onto_photos(digits[:50], random_state=0)  # scikit-image's photos
    np.testing.assert_array_equal(default, blend_onto_photos(digits[:50], random_state=0))
    assert default.std(axis=(1, 2)).mean(axis=1).min() > 5  # textured, coloured patches
    with pytest.raises(ValueError, match=r"backgrounds\[0\] must be an RGB photo of at least"):
        blend_onto_photos(digits[:2], [photo[:10]])
    with pytest.raises(ValueError, match="grayscale uint8"):
        blend_onto_photos(digits[:2].astype(float))
