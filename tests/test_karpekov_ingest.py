"""Karpekov & Miller's accuracy and bottom deletion curves and the consistency test's top-5
vectors, as ingest stores them: checked against direct forward passes of the model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from sqlalchemy import select
from support.cli import ingest_args
from support.methods import TEXTS, build_adapter, options, run_forward, save_checkpoint

from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.ingest.batch import explain_batch
from attention_atlas.ingest.cli import main
from attention_atlas.ingest.faithfulness import bottom_ranking, ranking
from attention_atlas.ingest.top_vectors import TOP_TOKENS
from attention_atlas.models import Example, Faithfulness, TopVector, vocabulary

torch.set_num_threads(1)
METHODS = ("attention", "grad_input")  # one unsigned, one signed: both cheap


@pytest.fixture(scope="module", params=["bert", "gpt2"])
def adapter(request, tmp_path_factory):
    return build_adapter(
        request.param, save_checkpoint(request.param, tmp_path_factory.mktemp("k"))
    )


def _direct(adapter, ids: np.ndarray, position: int):
    """(class probabilities [C], last hidden states [T, D]) of one unpadded sequence."""
    with torch.no_grad():
        out = adapter.forward(
            None,
            input_ids=torch.tensor(ids[None]),
            attention_mask=torch.ones(1, len(ids), dtype=torch.long),
            prediction_positions=torch.tensor([position]),
            output_hidden=True,
        )
    return torch.softmax(out.logits, -1)[0].numpy(), out.hidden[0].numpy()


def test_bottom_curves_and_top_vectors_equal_direct_forwards(adapter) -> None:
    items, batch, forward = run_forward(adapter, TEXTS)  # no hidden states: recomputed once
    out = explain_batch(adapter, batch, items, forward, options(*METHODS, faithfulness=True))
    removal = adapter.removal_token_id
    for item, explanation in zip(items, out, strict=True):
        ids = np.asarray(item.input_ids)
        pos = item.prediction_position
        full, hidden = _direct(adapter, ids, pos)
        target = int(np.argmax(full))
        rows = {r["method"]: r for r in explanation.faithfulness}
        assert set(rows) == {*METHODS, "random"}
        for method, row in rows.items():
            assert row["deletion_same"].dtype == bool
            assert row["deletion_same"].shape == row["deletion"].shape
            assert row["deletion_same"][0]
            signed = method in vocabulary.signed_method_ids()
            assert (row["deletion_bottom"] is not None) == signed
            assert (row["deletion_bottom_same"] is not None) == signed
        scores = explanation.scores()
        order = bottom_ranking(item, scores["grad_input"])
        assert (np.diff(scores["grad_input"][order]) >= 0).all()  # most negative first
        row = rows["grad_input"]
        for k in (1, min(3, len(order))):
            removed = ids.copy()
            removed[order[:k]] = removal
            probs, _ = _direct(adapter, removed, pos)
            assert row["deletion_bottom"][k] == pytest.approx(probs[target], abs=1e-5)
            assert row["deletion_bottom_same"][k] == (int(np.argmax(probs)) == target)
            top = ids.copy()
            top[ranking(item, scores["grad_input"])[:k]] = removal
            probs, _ = _direct(adapter, top, pos)
            assert row["deletion_same"][k] == (int(np.argmax(probs)) == target)
        for method in METHODS:
            top5 = ranking(item, scores[method])[:TOP_TOKENS]
            expected = hidden[top5].mean(axis=0)
            got = explanation.top_vectors[method]
            assert got.dtype == np.float16 and got.shape == (hidden.shape[1],)
            np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-3)


def test_ingest_stores_accuracy_bottom_and_top_vectors(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    url = sqlite_url_factory()
    args = ingest_args(tiny_bert_dir, tiny_corpus, url, "--methods", ",".join(METHODS), "-q")
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with session_factory(make_engine(url))() as session:
        examples = session.scalars(select(Example)).all()
        faith = session.scalars(select(Faithfulness)).all()
        vectors = session.scalars(select(TopVector)).all()
    assert len(faith) == len(examples) * (len(METHODS) + 1)
    for row in faith:
        signed = row.method in vocabulary.signed_method_ids()
        assert row.deletion_same is not None and row.deletion_same.shape == row.deletion.shape
        # two classes: the original class is still predicted exactly when its p stays > 0.5
        clear = np.abs(row.deletion - 0.5) > 1e-4
        assert (row.deletion_same[clear] == (row.deletion[clear] > 0.5)).all()
        assert (row.deletion_bottom is not None) == signed
        if signed:
            assert row.deletion_bottom.shape == row.deletion.shape
            assert row.deletion_bottom[0] == pytest.approx(row.deletion[0], abs=1e-6)
    assert {(v.example_id, v.method) for v in vectors} == {
        (e.id, m) for e in examples for m in METHODS
    }
    assert all(v.vector.shape == (32,) and v.vector.dtype == np.float16 for v in vectors)
