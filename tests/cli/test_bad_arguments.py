"""The command line refuses bad arguments and unsafe outputs in one line, before any work."""

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import PretrainedImageFeaturizer, Word2VecEmbedder, io
from sktransfer.cli import main


@pytest.fixture(scope="module")
def image_model(tmp_path_factory, lfw):
    images, labels = lfw
    path = tmp_path_factory.mktemp("model") / "probe.skops"
    model = make_pipeline(PretrainedImageFeaturizer(progress=False), LogisticRegression())
    io.save(model.fit(images[::10], labels[::10]), path)
    return path


def _fails(argv, capsys, status, message):
    with pytest.raises(SystemExit) as exit:
        main(argv)
    err = capsys.readouterr().err
    assert exit.value.code == status, err
    assert message in err and "Traceback" not in err, err
    return err


def test_an_output_that_is_an_input_or_the_model_is_refused_untouched(
    image_model, face_folder, tmp_path, capsys
):
    image = sorted((face_folder / "face").iterdir())[0]
    pixels, model_bytes = image.read_bytes(), image_model.read_bytes()
    _fails(
        ["predict", str(image_model), str(image), "-o", str(image)],
        capsys,
        2,
        "is one of the inputs",
    )
    _fails(
        ["predict", str(image_model), str(face_folder), "-o", str(image_model)],
        capsys,
        2,
        "is one of the inputs",
    )
    _fails(["train", str(face_folder), "-o", str(image)], capsys, 2, "is one of the inputs")
    table = tmp_path / "images.csv"
    table.write_text(f"path\n{image}\n")
    _fails(["featurize", str(table), "-o", str(table)], capsys, 2, "is one of the inputs")
    _fails(["featurize", str(face_folder), "-o", str(image)], capsys, 2, "is one of the inputs")
    assert image.read_bytes() == pixels and image_model.read_bytes() == model_bytes


def test_an_unwritable_output_is_refused_before_training(
    face_folder, tmp_path, capsys, monkeypatch
):
    from sktransfer.cli import _train

    monkeypatch.setattr(_train, "_model", lambda *a: pytest.fail("trained anyway"))
    missing = tmp_path / "no" / "such" / "folder" / "model.skops"
    _fails(["train", str(face_folder), "-o", str(missing)], capsys, 2, "does not exist")
    _fails(["train", str(face_folder), "-o", str(tmp_path)], capsys, 2, "is a folder")


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["train", "{folder}", "-o", "{out}", "--batch-size", "0"],
            "is not a whole number of at least 1",
        ),
        (["train", "{folder}", "-o", "{out}", "--folds", "50"], "--folds 50: use 0"),
        (
            ["train", "{folder}", "-o", "{out}", "--folds", "-1"],
            "is not a whole number of at least 0",
        ),
        (["train", "{folder}", "-o", "{out}", "--epochs", "x"], "'x' is not a whole number"),
        (["train", "{folder}", "-o", "{out}", "--duplicates", "cnn"], "invalid choice: 'cnn'"),
        (["serve", "{model}", "--port", "99999"], "is not a port number"),
        (["serve", "{model}", "--timeout", "0"], "is not a positive number of seconds"),
        (["predict", "{out}", "{folder}"], "no such model file"),
        (["predict", "{folder}", "{folder}"], "is a folder, not a model file"),
        (["serve", "{folder}"], "is a folder, not a model file"),
        (["demo", "--folds", "1"], "is not a number of folds"),
    ],
    ids=lambda value: value if isinstance(value, str) else " ".join(value[:1] + value[2:3]),
)
def test_bad_arguments_exit_2_with_one_line(
    argv, message, image_model, face_folder, tmp_path, capsys
):
    names = {"folder": face_folder, "out": tmp_path / "out.skops", "model": image_model}
    _fails([part.format(**names) for part in argv], capsys, 2, message)


def test_a_text_model_is_refused_by_predict(face_folder, tmp_path, capsys):
    path = tmp_path / "texts.skops"
    texts = make_pipeline(Word2VecEmbedder(progress=False), LogisticRegression())
    io.save(texts.fit(["free prize", "see you", "win cash", "lunch"], [1, 0, 1, 0]), path)
    _fails(["predict", str(path), str(face_folder)], capsys, 2, "takes texts, not images")


def test_a_model_of_neither_images_nor_texts_is_refused_by_serve(tmp_path, capsys):
    path = tmp_path / "table.skops"
    io.save(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), path)
    message = "takes neither images nor texts, not images or texts"
    _fails(["serve", str(path), "--port", "0"], capsys, 2, message)
