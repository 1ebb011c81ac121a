"""Head importance through the real ingest: stored per example as layer x head arrays (ablation
only with --head-ablation, which is part of the run's identity only when set), the per-layer
shares beside the head grids, and the cost of both stages in --estimate."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from sqlalchemy import select
from support.cli import ingest_args

from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.ingest.cli import main
from attention_atlas.ingest.settings import IngestSettings
from attention_atlas.models import Example, HeadScore, HeadStat, Run


def _stored(url: str):
    with session_factory(make_engine(url))() as session:
        run = session.scalars(select(Run)).one()
        stats = list(session.scalars(select(HeadStat).order_by(HeadStat.example_id)))
        scores = list(session.scalars(select(HeadScore)))
        n = len(session.scalars(select(Example.id)).all())
        return run, stats, scores, n


def test_ingest_stores_importance_roles_and_shares_per_example(
    tiny_bert_dir: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'heads.db'}"
    args = ingest_args(tiny_bert_dir, tiny_corpus, url, "--methods", "attention,grad_input")
    result = CliRunner().invoke(main, [*args, "--head-ablation", "-q"])
    assert result.exit_code == 0, result.output
    run, stats, scores, n = _stored(url)
    assert run.settings["head_ablation"] is True and len(stats) == n == 12
    shape = (run.num_layers, run.num_heads)
    for row in stats:
        assert row.gradient.shape == shape and row.ablation.shape == shape
        assert row.roles.shape == (*shape, 5) and row.structure_share.shape == shape
        assert np.all(row.gradient >= 0) and np.isfinite(row.ablation).all()
        assert np.all((row.structure_share > 0) & (row.structure_share <= 1 + 1e-6))
    # every computed method is a head-grid reference (issue 22): grids against both, per example
    assert sorted({s.reference for s in scores}) == ["attention", "grad_input"]
    assert len(scores) == 2 * n


def test_without_the_flag_no_ablation_and_the_run_identity_is_unchanged(
    tiny_bert_dir: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    assert "head_ablation" not in IngestSettings(checkpoint="m", dataset="d").run_settings()
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    args = ingest_args(tiny_bert_dir, tiny_corpus, url, "--methods", "attention", "--run", "p")
    assert CliRunner().invoke(main, [*args, "-q"]).exit_code == 0
    run, stats, _, _ = _stored(url)
    assert "head_ablation" not in run.settings
    assert all(s.ablation is None and s.gradient is not None for s in stats)


def test_estimate_counts_head_importance_and_ablation(
    tiny_bert_dir: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    db = tmp_path / "est.db"
    args = ingest_args(tiny_bert_dir, tiny_corpus, f"sqlite:///{db}", batch_size=3)
    result = CliRunner().invoke(
        main, [*args, "--methods", "attention", "--head-ablation", "--estimate", "-q"]
    )
    assert result.exit_code == 0, result.output
    stages = dict(re.findall(r"^  (heads|head_ablation)\s+(\S+ \S+)", result.output, re.M))
    assert set(stages) == {"heads", "head_ablation"}, result.output
    assert "without --head-ablation" in result.output
    assert not db.exists()
