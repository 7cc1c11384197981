"""``sktransfer train`` and ``sktransfer predict``, end to end on real photos."""

import re

import numpy as np
import pandas as pd
import pytest

from sktransfer import io
from sktransfer.cli import main
from sktransfer.finetune import FineTunedImageClassifier


def _accuracy(output: str, label: str) -> float:
    return float(re.search(rf"{label}:? accuracy (\d\.\d+)", output).group(1))


def test_train_a_probe_reports_leakage_safe_cv_then_saves_a_safe_model(
    face_splits, tmp_path, capsys
):
    model_file = tmp_path / "probe.skops"
    assert main(["train", str(face_splits), "-o", str(model_file), "--folds", "3"]) == 0
    out = capsys.readouterr().out
    assert "48 training images in 2 classes (face 24, not_face 24)" in out
    assert "leakage-safe 3-fold cross-validation" in out
    folds = [float(x) for x in re.search(r"fold accuracy: ([\d. ]+)", out).group(1).split()]
    assert len(folds) == 3 and np.mean(folds) >= 0.9
    assert "precision" in out  # the classification report of the out-of-fold predictions
    assert _accuracy(out, "held-out 'test' split") >= 0.9
    model = io.load(model_file)
    assert model.named_steps["pretrainedimagefeaturizer"].cache is None  # the temporary one
    assert model.classes_.tolist() == ["face", "not_face"]


def test_train_names_a_mislabeled_image_among_the_worst_and_the_suspects(
    face_splits, tmp_path, capsys
):
    import shutil

    root = tmp_path / "faces"
    shutil.copytree(face_splits / "train", root)
    wrong = sorted((root / "face").iterdir())[0]
    moved = shutil.move(wrong, root / "not_face" / wrong.name)  # a face filed as not_face
    argv = ["train", str(root), "-o", str(tmp_path / "m.skops"), "--folds", "3", "--worst", "3"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    worst = out.split("worst 3 out-of-fold predictions")[1].split("labels look wrong")[0]
    assert f"{moved}: given not_face, predicted face" in worst.splitlines()[1]
    suspects = out.split("labels look wrong")[1].split("final fit")[0]
    assert f"{moved}: given not_face, suggested face" in suspects


def test_predict_writes_class_and_probabilities_for_files_and_folders(
    face_splits, tmp_path, capsys
):
    model_file = tmp_path / "probe.skops"
    assert main(["train", str(face_splits), "-o", str(model_file), "--folds", "0"]) == 0
    capsys.readouterr()
    test_folder = face_splits / "test"
    one_file = sorted((face_splits / "train" / "face").iterdir())[0]
    out = tmp_path / "predictions.csv"
    argv = ["predict", str(model_file), str(test_folder), str(one_file)]
    assert main([*argv, "-o", str(out)]) == 0
    table = pd.read_csv(out)
    assert table.columns.tolist() == ["path", "class", "proba_face", "proba_not_face"]
    assert len(table) == 21 and table["path"].iloc[-1] == str(one_file)
    np.testing.assert_allclose(table[["proba_face", "proba_not_face"]].sum(axis=1), 1, atol=1e-9)
    truth = table["path"].map(lambda p: p.split("/")[-2])
    assert (table["class"] == truth).mean() >= 0.9
    assert main(argv) == 0  # no -o: CSV on standard output
    assert capsys.readouterr().out.splitlines()[0] == "path,class,proba_face,proba_not_face"


@pytest.mark.slow
def test_train_finetune_saves_a_fine_tuned_model(face_splits, tmp_path, capsys):
    model_file = tmp_path / "finetuned.skops"
    argv = ["train", str(face_splits), "-o", str(model_file), "--strategy", "finetune"]
    options = ["--unfreeze", "1", "--epochs", "4", "--augment-views", "2", "--tta", "flip"]
    assert main([*argv, *options, "--folds", "2"]) == 0
    out = capsys.readouterr().out
    assert "leakage-safe 2-fold" in out and _accuracy(out, "held-out 'test' split") >= 0.9
    # the probe of the same backbone on the same folds, and a note if the fine-tune loses
    tuned = float(re.search(r"^  accuracy: (\d\.\d+)", out, flags=re.M).group(1))
    probe = float(re.search(r"linear probe of efficientnet_lite0, same folds: (\S+)", out)[1])
    assert probe >= 0.9
    assert ("fine-tuning scores below the probe" in out) == (tuned < probe)
    model = io.load(model_file)
    assert isinstance(model, FineTunedImageClassifier)
    assert model.trainable_groups_ == ["head_conv"] and model.max_epochs == 4
    assert (model.augment, model.augment_views, model.tta) == ("default", 2, "flip")
    assert model.cache is None and model.featurizer_.cache is None


def test_train_a_probe_with_test_time_augmentation(face_splits, tmp_path, capsys):
    model_file = tmp_path / "probe.skops"
    assert main(["train", str(face_splits), "-o", str(model_file), "--tta", "flip"]) == 0
    assert _accuracy(capsys.readouterr().out, "held-out 'test' split") >= 0.9
    assert io.load(model_file).named_steps["pretrainedimagefeaturizer"].tta == "flip"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--epochs", "3"], "apply to --strategy finetune only"),
        (["--unfreeze", "1"], "apply to --strategy finetune only"),
        (["--augment-views", "4"], "apply to --strategy finetune only"),
        (["--tta", "mirror"], "invalid choice: 'mirror'"),
    ],
)
def test_train_usage_errors_exit_2(face_splits, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(face_splits), "-o", str(tmp_path / "m.skops"), *args])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_predict_names_a_missing_file_and_refuses_a_pickle(face_splits, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(tmp_path / "m.skops"), str(tmp_path / "nope.png")])
    assert exit_info.value.code == 2 and "nope.png: no such file" in capsys.readouterr().err
    (tmp_path / "m.skops").write_bytes(b"\x80\x04K\x01.")  # pickle.dumps(1)
    image = sorted((face_splits / "test" / "face").iterdir())[0]
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(tmp_path / "m.skops"), str(image)])
    assert exit_info.value.code == 1 and "not a skops file" in capsys.readouterr().err
