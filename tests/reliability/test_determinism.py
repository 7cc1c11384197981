"""Determinism on the CPU: same data and random_state, same predictions, run after run.

Each trainer (augmented and mixed-up fine-tuning, a regressor with early stopping, the
text classifier) runs in two fresh Python processes; their predictions must be
bit-identical. Features must not depend on the batch size.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sktransfer import PretrainedImageFeaturizer

TRAIN = textwrap.dedent(
    """
    import numpy as np
    from skimage.data import lfw_subset
    from sktransfer.datasets import load_sms_spam
    from sktransfer.finetune import (
        FineTunedImageClassifier, FineTunedImageRegressor, FineTunedTextClassifier
    )

    def train():
        faces = lfw_subset()
        index = np.r_[0:12, 100:112]
        X, y, X_new = faces[index], (index < 100).astype(int), faces[40:50]
        sms = load_sms_spam()
        texts, labels = sms["text"].to_numpy()[:300], sms["label"].to_numpy()[:300]
        fast = dict(max_epochs=2, batch_size=8, random_state=0, progress=False)
        augmented = FineTunedImageClassifier(augment="default", mixup=0.2, **fast).fit(X, y)
        regressor = FineTunedImageRegressor(unfreeze=1, early_stopping=1, **fast)
        regressor.fit(X, X.mean(axis=(1, 2)))
        text = FineTunedTextClassifier(max_epochs=2, random_state=0).fit(texts, labels)
        return np.concatenate([
            augmented.predict_proba(X_new).ravel(),
            regressor.predict(X_new).ravel(),
            text.predict_proba(texts[:50]).ravel(),
        ])

    if __name__ == "__main__":
        import sys
        np.save(sys.argv[1], train())
    """
)


@pytest.mark.slow
def test_same_random_state_gives_identical_predictions_across_processes(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    outputs = [tmp_path / f"run{i}.npy" for i in range(2)]
    # side by side: each process has the same threads, so the same arithmetic
    processes = [subprocess.Popen([sys.executable, str(script), str(o)]) for o in outputs]
    assert [p.wait(timeout=300) for p in processes] == [0, 0]
    runs = [np.load(output) for output in outputs]
    assert runs[0].shape == (10 * 2 + 10 + 50 * 2,) and np.isfinite(runs[0]).all()
    np.testing.assert_array_equal(runs[0], runs[1])


def test_features_do_not_depend_on_batch_size(small_photos, feature_atol):
    one = PretrainedImageFeaturizer(batch_size=1, progress=False).fit_transform(small_photos)
    many = PretrainedImageFeaturizer(batch_size=4, progress=False).fit_transform(small_photos)
    np.testing.assert_allclose(one, many, atol=feature_atol)
