"""``attention-atlas export-run``: the export round-trips (``pandas.read_parquet`` and
``datasets.load_from_disk`` give back the stored scores, predictions and agreements exactly),
``--where`` selects what the read API's filter selects, and user errors are one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from support.dash_fixtures import build_store

import attention_atlas
from attention_atlas.ingest.cli import main


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url, _ = build_store(tmp_path_factory.mktemp("export-run"), n_examples=30)
    return url


def _export(url: str, out: Path, *args: str) -> None:
    result = CliRunner().invoke(
        main, ["export-run", "synthetic-7", "--db", url, "--out", str(out), *args]
    )
    assert result.exit_code == 0, result.output


def _check_round_trip(url: str, rows: pd.DataFrame, where: str | None) -> None:
    with attention_atlas.open(url) as atlas:
        run = atlas.run("synthetic-7")
        assert rows["id"].tolist() == run.ids(where).tolist()
        agreements = run.agreements(where)
        for method in run.info.methods:
            stored = run.scores(method, where, as_arrays=True)
            for example_id, scores in zip(rows["id"], rows[f"scores_{method}"], strict=True):
                np.testing.assert_array_equal(np.asarray(scores, np.float32), stored[example_id])
        pair = agreements[(agreements.method_a == "attention") & (agreements.method_b == "ig")]
        exported = rows.set_index("id")["agreement_attention_ig_spearman"]
        np.testing.assert_array_equal(exported.loc[pair.example_id].to_numpy(), pair.spearman)
        examples = run.examples(where)
        assert rows["prediction"].tolist() == examples["prediction"].tolist()
        np.testing.assert_array_equal(
            np.stack(rows["probabilities"]).astype(np.float32), np.stack(examples["probabilities"])
        )


def test_parquet_round_trips_the_stored_numbers(store: str, tmp_path: Path) -> None:
    _export(store, tmp_path / "out", "--where", "/heads?correct=no&ref=shap")
    rows = pd.read_parquet(tmp_path / "out" / "examples.parquet")
    _check_round_trip(store, rows, "?correct=no")
    provenance = json.loads((tmp_path / "out" / "run.json").read_text())
    assert (
        provenance["name"] == "synthetic-7"
        and "settings" in provenance
        and "versions" in provenance
    )
    assert "correct=no" in (tmp_path / "out" / "README.md").read_text()


def test_datasets_folder_loads_back(store: str, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    _export(store, tmp_path / "out", "--format", "datasets")
    rows = datasets.load_from_disk(str(tmp_path / "out")).to_pandas()
    assert len(rows) == 30
    _check_round_trip(store, rows, None)
    assert "How the numbers were made" in (tmp_path / "out" / "README.md").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no run 'nope'"),
        (["synthetic-7", "--where", "?lable=1"], "unknown filter key 'lable'"),
    ],
)
def test_user_errors_are_one_line(
    store: str, tmp_path: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(
        main, ["export-run", *args, "--db", store, "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output
