"""A store for the compare page's tests: a tiny BERT and the same BERT with randomized weights
(``attention-atlas sanity``) over the first 24 SST-2 dev sentences (skips without the data)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_csv

from attention_atlas.ingest.cli import main
from support.cli import ingest_args

N_SENTENCES = 24
METHODS = "attention,rollout,grad_input,ig,shap"


def sst2_corpus(shared_data: Path, folder: Path, n: int = N_SENTENCES) -> Path:
    source = shared_data / "sst2" / "dev.tsv"
    if not source.exists():
        pytest.skip(f"{source} not found (SST-2 from the shared data folder)")
    with source.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[:n]
    return write_csv(folder / "sst2.csv", [{"text": r["text"], "label": r["label"]} for r in rows])


_BUILT: dict[tuple[Path, Path], tuple[str, int, int]] = {}


def sanity_store(tmp_path_factory: pytest.TempPathFactory, model: Path, shared_data: Path):
    """(url, trained run id, randomized run id): built once per test session, read-only after."""
    key = (model, shared_data)
    if key not in _BUILT:
        folder = tmp_path_factory.mktemp("compare")
        _BUILT[key] = build_sanity_store(model, sst2_corpus(shared_data, folder), folder)
    return _BUILT[key]


def build_sanity_store(model: Path, corpus: Path, folder: Path) -> tuple[str, int, int]:
    """(url, trained run id, randomized run id) of a fresh store built by ``sanity``."""
    url = f"sqlite:///{folder / 'compare.db'}"
    args = ingest_args(model, corpus, url, "--methods", METHODS, "--ig-steps", "8")
    args[0] = "sanity"
    result = CliRunner().invoke(main, [*args, "--shap-evals", "64", "--run", "trained", "-q"])
    assert result.exit_code == 0, result.output
    found = re.search(r"compare: \S+/compare\?a=(\d+)&b=(\d+)", result.output)
    assert found, result.output
    return url, int(found.group(1)), int(found.group(2))
