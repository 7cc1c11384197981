"""``sktransfer.export``: one ONNX file per fitted image model, run without torch."""

import json
import subprocess
import sys
import threading
import urllib.request

import numpy as np
import onnx
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading

from sktransfer import PretrainedImageFeaturizer, io
from sktransfer.cli import main
from sktransfer.exceptions import ImageLoadError, ModelFileError
from sktransfer.export import OnnxImageModel, to_onnx
from sktransfer.finetune import FineTunedImageClassifier, FineTunedImageRegressor
from sktransfer.serving import make_server


@pytest.fixture(scope="module")
def faces(lfw):
    """Real LFW images: 60 for training, 40 held out, labels by name."""
    images, labels = lfw
    names = np.where(labels == 1, "face", "other")
    train, test = np.r_[0:30, 100:130], np.r_[60:80, 160:180]
    return list(images[train]), names[train], list(images[test]), names[test]


@pytest.fixture(scope="module")
def probe(faces):
    X, y, _, _ = faces
    return make_pipeline(
        PretrainedImageFeaturizer(progress=False), StandardScaler(), LogisticRegression()
    ).fit(X, y)


@pytest.fixture(scope="module")
def exported(probe, faces, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "probe.onnx"
    return to_onnx(probe, path, X=faces[2]), path


def test_a_probe_exports_to_one_file_that_predicts_as_the_pipeline(probe, faces, exported):
    report, path = exported
    _, _, X_test, y_test = faces
    assert report.path == path and report.n_bytes == path.stat().st_size > 10e6
    assert report.n_samples == 40 and report.argmax_agreement == 1.0
    assert report.max_abs_difference <= 1e-4
    model = OnnxImageModel(path)
    assert model.classes_.tolist() == ["face", "other"] and model.source == "Pipeline"
    expected = probe.predict_proba(X_test)
    np.testing.assert_allclose(model.predict_proba(X_test), expected, atol=1e-4)
    assert (model.predict(X_test) == probe.predict(X_test)).all()
    assert (model.predict(X_test) == y_test).mean() >= 0.9  # a real probe on real faces
    featurizer = probe[0]
    assert model.preprocessing == {
        "input_size": 224,
        "resize_size": featurizer.preprocessing_.resize_size,
        "interpolation": "bicubic",
        "mean": [0.5] * 3,
        "std": [0.5] * 3,
    }
    graph = onnx.load(path)
    assert [i.name for i in graph.graph.input] == ["images"]
    assert [o.name for o in graph.graph.output] == ["probabilities"]


def test_predicting_from_the_file_imports_no_torch(exported, faces, tmp_path):
    _, path = exported
    image = tmp_path / "face.png"
    Image.fromarray((faces[2][0] * 255).astype(np.uint8)).save(image)
    code = (
        "import sys\n"
        "from sktransfer.export import OnnxImageModel\n"
        f"print(OnnxImageModel({str(path)!r}).predict([{str(image)!r}])[0])\n"
        "from sktransfer.cli import main\n"
        f"main(['predict', '--backend', 'onnxruntime', {str(path)!r}, {str(image)!r}])\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    first, header, row = done.stdout.split()
    assert first == "face" and header.startswith("path,class,proba_face")
    assert row.split(",")[1] == "face"


def test_the_server_runs_the_exported_file(exported, faces):
    _, path = exported
    server = make_server(OnnxImageModel(path), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with urllib.request.urlopen(url + "/health", timeout=30) as answer:
            health = json.load(answer)
        image = Image.fromarray((faces[2][25] * 255).astype(np.uint8))  # a non-face
        with open(path.with_suffix(".png"), "wb") as file:
            image.save(file, format="PNG")
        request = urllib.request.Request(url + "/predict", path.with_suffix(".png").read_bytes())
        with urllib.request.urlopen(request, timeout=30) as answer:
            prediction = json.load(answer)["predictions"][0]
    finally:
        server.shutdown()
        server.server_close()
    assert health["model"] == "OnnxImageModel" and health["classes"] == ["face", "other"]
    assert prediction["class"] == "other"
    assert sum(prediction["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.slow
def test_a_fine_tuned_classifier_exports_its_trained_top_and_head(faces, tmp_path):
    X, y, X_test, _ = faces
    model = FineTunedImageClassifier(
        unfreeze=1, max_epochs=2, random_state=0, progress=False, cache=tmp_path
    ).fit(X, y)
    report = to_onnx(model, tmp_path / "tuned.onnx", X=X_test)
    assert report.max_abs_difference <= 1e-4 and report.argmax_agreement == 1.0
    exported = OnnxImageModel(tmp_path / "tuned.onnx")
    assert exported.source == "FineTunedImageClassifier"
    assert (exported.predict(X_test) == model.predict(X_test)).all()


def test_a_fine_tuned_regressor_exports_its_predictions(faces, tmp_path):
    X, y, X_test, _ = faces
    target = (y == "face").astype(float) * 10.0
    model = FineTunedImageRegressor(max_epochs=3, random_state=0, progress=False).fit(X, target)
    report = to_onnx(model, tmp_path / "regressor.onnx", X=X_test[:8])
    assert report.argmax_agreement is None and report.max_abs_difference <= 1e-3
    exported = OnnxImageModel(tmp_path / "regressor.onnx")
    np.testing.assert_allclose(exported.predict(X_test[:8]), model.predict(X_test[:8]), atol=1e-3)
    with pytest.raises(AttributeError, match="regressor"):
        exported.predict_proba(X_test[:1])


def test_a_head_skl2onnx_cannot_convert_is_named_and_nothing_is_written(faces, tmp_path):
    X, y, _, _ = faces
    model = make_pipeline(PretrainedImageFeaturizer(progress=False), LabelSpreading()).fit(X, y)
    with pytest.raises(ValueError, match="'labelspreading' \\(LabelSpreading\\)"):
        to_onnx(model, tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_models_that_take_no_images_are_refused(tmp_path):
    model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(ValueError, match="starts with a PretrainedImageFeaturizer"):
        to_onnx(model, tmp_path / "m.onnx")


def test_a_failed_parity_check_raises_with_numbers_and_writes_nothing(
    probe, faces, tmp_path, monkeypatch
):
    predict_proba = OnnxImageModel.predict_proba
    monkeypatch.setattr(
        OnnxImageModel, "predict_proba", lambda self, X: predict_proba(self, X) + 0.01
    )
    with pytest.raises(ValueError, match="largest difference 0.01.*Nothing was written"):
        to_onnx(probe, tmp_path / "m.onnx", X=faces[2][:4])
    assert list(tmp_path.iterdir()) == []


def test_files_that_are_not_sktransfer_exports_are_refused(tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a protobuf at all")
    with pytest.raises(ModelFileError, match="not a readable ONNX file"):
        OnnxImageModel(garbage)
    plain = tmp_path / "plain.onnx"
    node = onnx.helper.make_node("Identity", ["x"], ["y"])
    value = onnx.helper.make_tensor_value_info
    graph = onnx.helper.make_graph(
        [node], "g", [value("x", onnx.TensorProto.FLOAT, [1])], [value("y", 1, [1])]
    )
    onnx.save(onnx.helper.make_model(graph), plain)
    with pytest.raises(ModelFileError, match="not one written by sktransfer.export.to_onnx"):
        OnnxImageModel(plain)


def test_a_broken_image_is_named_by_index_and_path(exported, faces, tmp_path):
    _, path = exported
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(ImageLoadError, match=r"sample 1 \(path '.*broken\.jpg'\)") as info:
        OnnxImageModel(path).predict([faces[2][0], str(broken)])
    assert str(info.value).endswith("Fix or drop these samples.")  # it has no on_error


def test_the_command_line_exports_a_saved_model_checked_on_real_images(
    probe, exported, face_folder, tmp_path, capsys
):
    saved = tmp_path / "probe.skops"
    io.save(probe, saved)
    assert (
        main(["export", str(saved), "-o", str(tmp_path / "m.onnx"), "--images", str(face_folder)])
        == 0
    )
    message = capsys.readouterr().err
    assert "checked on 12 images" in message and "same class 100%" in message
    code = main(["predict", "--backend", "onnxruntime", str(tmp_path / "m.onnx"), str(face_folder)])
    assert code == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 13 and table[0].startswith("path,class,proba_face")
    with pytest.raises(SystemExit):
        main(["predict", str(tmp_path / "m.onnx"), str(face_folder)])
    assert "run it with --backend onnxruntime" in capsys.readouterr().err
