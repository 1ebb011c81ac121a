"""Karpekov & Miller's charts on the faithfulness page: accuracy curves equal a direct
computation from the stored rows, bottom curves for every signed method, the consistency
test's silhouette equals scikit-learn's, and runs stored before revision 0003 say so."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_score as sklearn_silhouette
from sqlalchemy import delete, func, select, update
from support.dash_fixtures import build_store

from attention_atlas.dashboard.data import accuracy as curves
from attention_atlas.dashboard.data.cache import AtlasCache
from attention_atlas.dashboard.data.service import AtlasData, service
from attention_atlas.dashboard.server.app import create_app
from attention_atlas.dashboard.urlstate import FaithfulnessState
from attention_atlas.db.analysis import consistency
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.models import Example, Faithfulness, TopVector, vocabulary


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    url, run_id = build_store(tmp_path_factory.mktemp("karpekov"))
    return url, run_id, create_app(url)


@pytest.fixture
def ctx(store):
    url, run_id, app = store
    with app.server.test_request_context("/"):
        yield url, run_id


def _direct_accuracy(url: str, run_id: int, label: int, column: str) -> dict[str, np.ndarray]:
    """Relative accuracy per method straight from the ORM rows: the originally correct
    examples of gold label ``label``, curves padded with their last value."""
    with session_factory(make_engine(url))() as session:
        rows = session.execute(
            select(Faithfulness.method, getattr(Faithfulness, column))
            .join(Example, Example.id == Faithfulness.example_id)
            .where(Example.run_id == run_id, Example.correct, Example.label == label)
        ).all()
    by_method: dict[str, list[np.ndarray]] = {}
    for method, curve in rows:
        if curve is not None:
            by_method.setdefault(method, []).append(curve.astype(float))
    out = {}
    for method, found in by_method.items():
        width = max(len(c) for c in found)
        padded = np.array([np.pad(c, (0, width - len(c)), mode="edge") for c in found])
        out[method] = padded.mean(axis=0) / padded[:, 0].mean()
    return out


def test_accuracy_curves_equal_a_direct_computation(ctx) -> None:
    url, run_id = ctx
    run = service().run(run_id)
    state = FaithfulnessState.parse({"run": str(run_id), "label": "1"})
    result = curves.accuracy_curves(run, state.corpus.to_filter(run_id))
    top = _direct_accuracy(url, run_id, 1, "deletion_same")
    bottom = _direct_accuracy(url, run_id, 1, "deletion_bottom_same")
    assert set(result.top) == set(top) == {*vocabulary.one_stack_method_ids(), "random"}
    for method, curve in top.items():
        np.testing.assert_allclose(result.top[method], curve, atol=1e-12)
        assert result.top[method][0] == 1.0
    assert (
        set(result.bottom)
        == set(bottom)
        == set(vocabulary.signed_method_ids()) & set(vocabulary.one_stack_method_ids())
    )
    for method, curve in bottom.items():
        np.testing.assert_allclose(result.bottom[method], curve, atol=1e-12)
    with session_factory(make_engine(url))() as session:
        n_correct = session.scalar(
            select(func.count())
            .select_from(Example)
            .where(Example.run_id == run_id, Example.correct, Example.label == 1)
        )
    assert result.n == n_correct > 0


def test_silhouette_equals_scikit_learn() -> None:
    rng = np.random.default_rng(4)
    for n, d, classes in [(40, 8, 2), (257, 32, 3), (600, 384, 2)]:
        x = rng.normal(size=(n, d)).astype(np.float16)
        labels = rng.integers(classes, size=n)
        x[labels == 1] += 0.4
        expected = sklearn_silhouette(x.astype(np.float64), labels)
        assert consistency.silhouette_score(x, labels) == pytest.approx(expected, abs=1e-9)
    lonely = np.array([0, 0, 0, 1, 1, 2])  # a one-point cluster scores 0, as in sklearn
    x = rng.normal(size=(6, 4))
    assert consistency.silhouette_score(x, lonely) == pytest.approx(
        sklearn_silhouette(x, lonely), abs=1e-12
    )
    assert consistency.silhouette_score(x, np.zeros(6)) is None


def test_page_silhouette_is_sklearns_on_the_stored_vectors(ctx) -> None:
    url, run_id = ctx
    run = service().run(run_id)
    f = FaithfulnessState.parse({"run": str(run_id)}).corpus.to_filter(run_id)
    with session_factory(make_engine(url))() as session:
        rows = session.execute(
            select(TopVector.vector, Example.label)
            .join(Example, Example.id == TopVector.example_id)
            .where(TopVector.run_id == run_id, TopVector.method == "ig", Example.correct)
            .order_by(Example.id)
        ).all()
    vectors = np.array([r[0] for r in rows], dtype=np.float64)
    labels = np.array([r[1] for r in rows])
    result = curves.method_consistency(run, f, "ig")
    assert result.n == len(rows) and not result.subsampled
    assert result.silhouette == pytest.approx(sklearn_silhouette(vectors, labels), abs=1e-9)
    assert result.xy.shape == (len(rows), 2)


def _cells(component) -> list[str]:
    """The texts of a row's cells (html.Th / html.Td holding a string or a number)."""
    return ["" if c.children is None else str(c.children) for c in component.children]


def test_every_column_of_the_consistency_table_has_values(ctx) -> None:
    from attention_atlas.dashboard import ids
    from attention_atlas.dashboard.pages import faithfulness

    _, run_id = ctx
    page = faithfulness.layout(run=str(run_id))
    (table,) = [c for c in page.children if getattr(c, "id", None) == ids.FA_CONSISTENCY]
    head, body = table.children
    rows = [_cells(head.children)] + [_cells(tr) for tr in body.children]
    # a header and a row per stored method
    assert len(rows) == 1 + len(vocabulary.one_stack_method_ids())
    assert {len(r) for r in rows} == {4}
    assert all(cell.strip() for row in rows for cell in row), rows
    for _, correct, _, scored in rows[1:]:
        assert scored == f"{correct} (all)"  # 60 examples: under the subsample limit


def test_large_filters_are_subsampled_with_a_fixed_seed(ctx, monkeypatch) -> None:
    from attention_atlas.dashboard.pages import faithfulness

    url, run_id = ctx
    # an earlier test may have cached this filter's draw (the same correct examples) before the
    # limit was lowered: start from an empty cache
    monkeypatch.setattr(service(), "_cache", AtlasCache())
    monkeypatch.setattr(consistency, "MAX_POINTS", 12)
    monkeypatch.setattr(consistency.subsample, "__defaults__", (12, consistency.SUBSAMPLE_SEED))
    run = service().run(run_id)
    f = FaithfulnessState.parse({"run": str(run_id), "minlen": "9"}).corpus.to_filter(run_id)
    first = curves.method_consistency(run, f, "shap")
    cold = AtlasData(url)  # a service with an empty cache: recomputed, the same draw
    monkeypatch.setattr(curves, "service", lambda: cold)
    again = curves.method_consistency(run, f, "shap")
    cold.close()
    assert first.subsampled and len(first.ids) == 12 < first.n
    assert (first.ids == again.ids).all()
    state = FaithfulnessState.parse({"run": str(run_id), "minlen": "9", "method": "shap"})
    _, note = faithfulness.scatter_view(state, run)
    assert "12 of" in note and "subsample" in note
    shap = [r for r in faithfulness.consistency_rows(state, run) if r[0] == "shap"]
    assert shap == [("shap", first.n, first.silhouette, 12, True)]  # "12 (seeded subsample)"


def test_callback_switches_view_and_keeps_it_in_the_url(ctx) -> None:
    from attention_atlas.dashboard.pages import faithfulness

    _, run_id = ctx
    search = f"?run={run_id}&minlen=9"
    fig, note, scatter, _, state = faithfulness.update_faithfulness("accuracy", "ig", search)
    dashed = {t["legendgroup"] for t in fig["data"] if t["line"]["dash"] == "dash"}
    assert dashed == set(vocabulary.signed_method_ids()) & set(vocabulary.one_stack_method_ids())
    assert "bottom-k" in note and "method=ig" in state and "view=accuracy" in state
    assert FaithfulnessState.parse(state).view == "accuracy"
    assert {t["name"] for t in scatter["data"]} == {"negative", "positive"}
    fig, note, *_, state = faithfulness.update_faithfulness("probability", None, search)
    assert "view" not in state and note == ""
    for junk in (None, 3, "zzz", ["accuracy"], {"a": 1}, "\x00", float("nan")):
        out = faithfulness.update_faithfulness(junk, junk, junk)
        assert len(out) == 5


@pytest.mark.parametrize(
    ("query", "view", "method"),
    [
        ({}, "probability", None),
        ({"view": "accuracy", "method": "shap"}, "accuracy", "shap"),
        ({"view": "ACCURACY", "method": "random"}, "probability", None),
        ({"view": ["probability", "accuracy"], "method": "nope"}, "accuracy", None),
    ],
)
def test_faithfulness_state_parses_and_round_trips(query, view, method) -> None:
    state = FaithfulnessState.parse(query)
    assert (state.view, state.method) == (view, method)
    assert FaithfulnessState.parse(state.to_search()) == state


def test_runs_stored_before_0003_say_the_curves_are_missing(tmp_path) -> None:
    from attention_atlas.dashboard.pages import faithfulness

    url, run_id = build_store(tmp_path, n_examples=12)
    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        session.execute(
            update(Faithfulness).values(
                deletion_same=None, deletion_bottom=None, deletion_bottom_same=None
            )
        )
        session.execute(delete(TopVector))
    engine.dispose()
    app = create_app(url)
    with app.server.test_request_context("/"):
        fig, note, scatter, scatter_note, _ = faithfulness.update_faithfulness(
            "accuracy", None, f"?run={run_id}"
        )
        assert "not stored" in str(fig) and "before accuracy" in note
        assert "not stored" in str(scatter) and "0003" in scatter_note
        assert "silhouette" in str(faithfulness.layout(run=str(run_id), view="accuracy"))
    assert app.server.test_client().get(f"/faithfulness?run={run_id}&view=accuracy").status_code
