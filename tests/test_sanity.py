"""The model-randomization sanity check's ingest side: cascading re-initialisation
(``--randomize-layers``), its place in the run's identity, and ``attention-atlas sanity``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from sqlalchemy import func, select
from support.cli import ingest_args

from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.ingest.cli import main
from attention_atlas.ingest.settings import IngestSettings
from attention_atlas.models.schema import Example, Run


def _load(folder: Path):
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(folder)


def _changed(before, after) -> set[str]:
    """Names of the parameters that differ between two models."""
    theirs = dict(after.named_parameters())
    return {n for n, p in before.named_parameters() if not torch.equal(p, theirs[n])}


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_cascading_randomization_keeps_what_lies_below_the_depth(
    tiny_bert_dir: Path, depth: int
) -> None:
    from attention_atlas.ingest.loading import randomize_weights

    trained, model = _load(tiny_bert_dir), _load(tiny_bert_dir)
    randomize_weights(model, seed=3, from_layer=depth)
    changed = _changed(trained, model)
    for name, param in trained.named_parameters():
        layer = re.search(r"encoder\.layer\.(\d+)\.", name)
        kept = name.startswith("bert.embeddings.") or (layer and int(layer.group(1)) < depth)
        if kept:
            assert name not in changed, name
        elif param.std() > 0:  # constant inits (LayerNorm, biases) may coincide by design
            assert name in changed, name
    assert "classifier.weight" in changed  # the head is always re-initialised
    again = _load(tiny_bert_dir)
    randomize_weights(again, seed=3, from_layer=depth)
    assert not _changed(model, again)  # seeded


def test_cascading_depth_outside_the_model_is_a_user_error(tiny_bert_dir: Path) -> None:
    from attention_atlas.ingest.loading import CheckpointError, randomize_weights

    with pytest.raises(CheckpointError, match="outside 0..2"):
        randomize_weights(_load(tiny_bert_dir), seed=0, from_layer=3)


def test_randomize_layers_is_part_of_the_run_identity_only_when_set() -> None:
    plain = IngestSettings(checkpoint="m", dataset="d")
    assert "randomize_layers" not in plain.run_settings()  # older runs keep their identity
    full = IngestSettings(checkpoint="m", dataset="d", randomize_weights=True)
    cascade = IngestSettings(
        checkpoint="m", dataset="d", randomize_weights=True, randomize_layers=1
    )
    assert cascade.run_settings()["randomize_layers"] == 1
    assert len({plain.settings_hash(), full.settings_hash(), cascade.settings_hash()}) == 3


def test_randomize_layers_without_randomize_weights_exits_2(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory
) -> None:
    args = ingest_args(tiny_bert_dir, tiny_corpus, sqlite_url_factory(), "--randomize-layers", "1")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "--randomize-layers needs --randomize-weights" in result.output


def _sources(session, run_id: int) -> list[int]:
    stmt = select(Example.source_index).where(Example.run_id == run_id)
    return sorted(session.scalars(stmt))


def _sanity(model: Path, corpus: Path, url: str, *extra: str):
    args = ingest_args(model, corpus, url, *extra)
    args[0] = "sanity"
    return CliRunner().invoke(main, [*args, "-q"])


def test_sanity_ingests_trained_and_randomized_runs_and_prints_compare_urls(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory
) -> None:
    url = sqlite_url_factory()
    result = _sanity(tiny_bert_dir, tiny_corpus, url, "--run", "t", "--layers", "1")
    assert result.exit_code == 0, result.output
    assert "compare: http://127.0.0.1:8050/compare?a=1&b=2" in result.output
    with session_factory(make_engine(url))() as session:
        runs = {r.name: r for r in session.scalars(select(Run))}
        sources = {name: _sources(session, r.id) for name, r in runs.items()}
    assert set(runs) == {"t", "t-random-from-1"}
    assert not runs["t"].settings["randomize_weights"]
    assert runs["t-random-from-1"].settings["randomize_weights"]
    assert runs["t-random-from-1"].settings["randomize_layers"] == 1
    assert sources["t"] == sources["t-random-from-1"] and sources["t"]
    again = _sanity(tiny_bert_dir, tiny_corpus, url, "--run", "t", "--layers", "1")
    assert again.exit_code == 0  # the same runs, reused
    assert "compare: http://127.0.0.1:8050/compare?a=1&b=2" in again.output
    with session_factory(make_engine(url))() as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 2
        assert session.scalar(select(func.count()).select_from(Example)) == 2 * len(sources["t"])


def test_sanity_checks_the_depth_before_ingesting(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory
) -> None:
    url = sqlite_url_factory()
    result = _sanity(tiny_bert_dir, tiny_corpus, url, "--layers", "7")
    assert result.exit_code == 2
    assert "--randomize-layers 7 is outside 0..2" in result.output
    with session_factory(make_engine(url))() as session:
        assert session.scalars(select(Run)).all() == []


def test_the_provenance_line_names_the_cascading_depth() -> None:
    from attention_atlas.dashboard.provenance import summary_parts

    cascade = " · ".join(summary_parts({"randomize_weights": True, "randomize_layers": 4}))
    assert "RANDOMIZED WEIGHTS from layer 4 up and the head" in cascade
    full = " · ".join(summary_parts({"randomize_weights": True}))
    assert "RANDOMIZED WEIGHTS (sanity check)" in full and "layer" not in full
