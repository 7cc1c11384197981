"""``sktransfer featurize``, end to end on real images."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sktransfer import PretrainedImageFeaturizer, TransformerTextEmbedder
from sktransfer.cli import main


def test_featurize_a_class_folder_to_parquet(face_folder, tmp_path, capsys, feature_atol):
    out = tmp_path / "features.parquet"
    assert main(["featurize", str(face_folder), "-o", str(out), "--batch-size", "5"]) == 0
    table = pd.read_parquet(out)
    assert table.shape == (12, 2 + 1280)
    assert table["label"].value_counts().to_dict() == {"face": 6, "not_face": 6}
    expected = PretrainedImageFeaturizer(progress=False).fit_transform(table["path"])
    np.testing.assert_allclose(table.iloc[:, 2:].to_numpy(), expected, atol=feature_atol)
    assert "wrote 12 images x 1280 features" in capsys.readouterr().out


def test_featurize_a_csv_with_relative_paths_and_a_bad_file(face_folder, tmp_path, capsys):
    rows = sorted(p.relative_to(face_folder).as_posix() for p in face_folder.rglob("*.png"))
    (face_folder / "broken.png").write_bytes(b"not a png")
    try:
        pd.DataFrame({"image": [*rows[:3], "broken.png"], "price": [1, 2, 3, 4]}).to_csv(
            face_folder / "items.csv", index=False
        )
        out = tmp_path / "features.csv"
        argv = ["featurize", str(face_folder / "items.csv"), "-o", str(out), "--column", "image"]
        with pytest.warns(UserWarning, match="broken.png"):
            assert main([*argv, "--on-error", "warn"]) == 0
        table = pd.read_csv(out)
        assert table.shape == (4, 2 + 1280) and table["price"].tolist() == [1, 2, 3, 4]
        assert table.iloc[:3, 2:].notna().all().all() and table.iloc[3, 2:].isna().all()
        assert "1 unreadable image(s)" in capsys.readouterr().out
        with pytest.raises(SystemExit) as exit_info:  # the default stops, naming the sample
            main(argv)
        assert exit_info.value.code == 1
        error = capsys.readouterr().err
        assert "sample 3 (path" in error and "--on-error warn" in error
    finally:
        (face_folder / "broken.png").unlink()
        (face_folder / "items.csv").unlink(missing_ok=True)


def test_featurize_a_flat_folder(face_folder, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in sorted(face_folder.rglob("*.png"))[:3]:
        (flat / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "flat.parquet"
    assert main(["featurize", str(flat), "-o", str(out)]) == 0
    assert pd.read_parquet(out).shape == (3, 1 + 1280)


def _class_folders_and_a_loose_image(folder):
    (folder / "tree" / "cat").mkdir(parents=True)
    for name in ("tree/cat/a.png", "tree/loose.png"):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / name)
    return folder / "tree"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.csv", "expected a folder of images or a .csv/.parquet table"),
        (lambda d: d / "table.csv", "has no column 'path'"),
        (_class_folders_and_a_loose_image, "lie directly in"),  # never half of the images
    ],
)
def test_featurize_usage_errors_exit_2_with_a_message(tmp_path, capsys, make, message):
    pd.DataFrame({"file": ["a.png"]}).to_csv(tmp_path / "table.csv", index=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["featurize", str(make(tmp_path)), "-o", str(tmp_path / "out.parquet")])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_featurize_a_text_column_beside_the_other_columns(sms, tmp_path, capsys):
    from sktransfer.cli._featurize import DEFAULT_TRANSFORMER
    from sktransfer.text import DEFAULT_TRANSFORMER as default

    messages = sms.iloc[:40].reset_index(drop=True)
    messages.loc[3, "text"] = None  # written as an empty CSV cell: a missing text
    messages.to_csv(tmp_path / "sms.csv", index=False)
    out = tmp_path / "embedded.parquet"
    argv = ["featurize", str(tmp_path / "sms.csv"), "--texts", "text", "-o", str(out)]
    assert main(argv) == 0
    table = pd.read_parquet(out)
    assert table.shape == (40, 2 + 384) and table["label"].tolist() == messages["label"].tolist()
    expected = TransformerTextEmbedder(progress=False).fit_transform(messages["text"])
    np.testing.assert_allclose(table.iloc[:, 2:].to_numpy(), expected, atol=1e-5)
    assert DEFAULT_TRANSFORMER == default
    assert f"wrote 40 texts x 384 features ({default})" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{folder}", "--texts", "text"], "expected a .csv/.parquet table with texts"),
        (["{table}", "--texts", "body"], "has no column 'body' (columns: text); name the column"),
    ],
)
def test_featurize_texts_usage_errors_exit_2(tmp_path, capsys, argv, message):
    pd.DataFrame({"text": ["hello"]}).to_csv(tmp_path / "table.csv", index=False)
    names = {"folder": tmp_path, "table": tmp_path / "table.csv"}
    with pytest.raises(SystemExit) as exit_info:
        main(["featurize", *(a.format(**names) for a in argv), "-o", str(tmp_path / "o.pq")])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
