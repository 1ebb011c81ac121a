"""The data service's one cache holder, grouped by run: the compare page's second request for
the same two runs reads their similarity from the cache, two runs read side by side keep each
other's per-run stacks, and a run that grows (ingest still writing) is read afresh."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import update

from attention_atlas.dashboard.data.cache import AtlasCache
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.server.app import create_app
from attention_atlas.dashboard.urlstate import (
    FAITHFULNESS_VIEWS,
    CompareState,
    CorpusState,
    FaithfulnessState,
    HeadsState,
)
from attention_atlas.db import compare as db_compare
from attention_atlas.db.engine import make_engine
from attention_atlas.db.migrate import upgrade
from attention_atlas.db.queries import RunInfo
from attention_atlas.db.synthetic import fill_synthetic_store
from attention_atlas.models import vocabulary
from attention_atlas.models.schema import Example

N = 24


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int, int]:
    """(url, run a, run b): two synthetic runs over the same N source rows."""
    url = f"sqlite:///{tmp_path_factory.mktemp('service') / 'atlas.db'}"
    engine = make_engine(url)
    upgrade(engine)
    a = fill_synthetic_store(engine, N, 2, 3, 8, 30, 1, run_name="a", full_max_tokens=16)
    b = fill_synthetic_store(engine, N, 2, 3, 8, 30, 2, run_name="b", full_max_tokens=16)
    with engine.begin() as connection:  # synthetic source indexes are example ids: align them
        connection.execute(
            update(Example).where(Example.run_id == b).values(source_index=Example.id - N)
        )
    engine.dispose()
    return url, a, b


def test_compare_page_second_request_for_the_same_runs_hits_the_cache(
    two_runs, monkeypatch
) -> None:
    url, a, b = two_runs
    calls: list[tuple[int, int]] = []
    run_similarity = db_compare.run_similarity

    def counted(session, run_a: int, run_b: int):
        calls.append((run_a, run_b))
        return run_similarity(session, run_a, run_b)

    monkeypatch.setattr(db_compare, "run_similarity", counted)
    search = CompareState(a=a, b=b).to_search()
    app = create_app(url)  # its own cache, cold
    from attention_atlas.dashboard.pages import compare

    with app.server.test_request_context():
        first = compare.update_compare("ig", "spearman", "ig", search)
        second = compare.update_compare("shap", "jaccard_5", "shap", search)
        again = compare.update_compare("ig", "spearman", "ig", search)
        compare.update_compare("ig", "spearman", "ig", CompareState(a=b, b=a).to_search())
    assert calls == [(a, b), (b, a)]  # one read per ordered pair, whatever the controls
    assert len(first[0]["data"]) > 0 and first[0] == again[0] and second[0] != first[0]


def _visit_run(run_id: int) -> None:
    """What the faithfulness and heads pages read of a run, every view and control value."""
    from attention_atlas.dashboard.pages import faithfulness, heads

    corpus = CorpusState(run=run_id)
    page = FaithfulnessState(corpus=corpus)
    faithfulness.layout(run=str(run_id))
    for view in FAITHFULNESS_VIEWS:
        for method in service().vector_methods(service().run(run_id)):
            faithfulness.update_faithfulness(view, method, page.to_search())
    for ref in vocabulary.reference_method_ids():
        for stat in ("rho", "first", "special"):
            heads.heads_view(HeadsState(corpus=corpus, ref=ref, stat=stat, layer=1, head=2))


def _visit_compare(a: int, b: int) -> None:
    """The compare page of runs a and b with every head grid reference."""
    from attention_atlas.dashboard.pages import compare

    compare.layout(a=str(a), b=str(b))
    for ref in vocabulary.reference_method_ids():
        compare.update_compare(None, None, ref, CompareState(a=a, b=b, ref=ref).to_search())


def test_two_runs_side_by_side_do_not_evict_each_others_entries(two_runs) -> None:
    url, a, b = two_runs
    with create_app(url).server.test_request_context():
        data = service()
        _visit_run(a)
        _visit_run(b)
        _visit_compare(a, b)
        filled = data.cache_stats()
        assert {version[0] for version in filled.runs} == {a, b}
        assert filled.misses > 20  # the stacks of both runs (about 11 each) and their filters
        _visit_run(a)
        _visit_compare(a, b)
        _visit_run(b)
        again = data.cache_stats()
    assert again.misses == filled.misses  # nothing of either run was evicted
    assert again.hits > filled.hits


def _run(run_id: int, updated_at: str = "2024-01-01", n: int = N) -> RunInfo:
    return RunInfo(run_id, f"run {run_id}", "c", "d", ["x", "y"], ["ig"], 2, 3, n, updated_at)


def test_the_cache_keeps_the_last_runs_and_rereads_a_run_that_grew() -> None:
    cache = AtlasCache(runs=4)
    computed: list[tuple[int, int]] = []

    def stack(run: RunInfo) -> tuple[int, int]:
        def compute() -> tuple[int, int]:
            computed.append((run.id, run.n_examples))
            return computed[-1]

        return cache.run_stack(run, "corpus", compute)

    for run_id in range(1, 6):  # five runs into four places: run 1 goes
        stack(_run(run_id))
    assert [v[0] for v in cache.stats().runs] == [2, 3, 4, 5]
    for run_id in (2, 5):
        stack(_run(run_id))
    assert len(computed) == 5 and cache.stats().hits == 2
    stack(replace(_run(3), n_examples=N + 1, updated_at="2024-01-02"))  # ingest wrote more
    assert computed[-1] == (3, N + 1)
    assert [v for v in cache.stats().runs if v[0] == 3] == [(3, "2024-01-02", N + 1)]
