"""The read API tour (``tests/notebooks/read_api_tour.py``) runs from top to bottom, cell by
cell, on a synthetic store: its figure is the heads page's grid and its shared link's filter
selects the examples the dashboard counts."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

TOUR = Path(__file__).parent / "notebooks" / "read_api_tour.py"


def test_the_tour_runs_and_draws_the_heads_grid(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no demo store here: the tour builds a synthetic one
    monkeypatch.delenv("ATLAS_TOUR_DB", raising=False)
    cells = TOUR.read_text().split("# %%")
    assert len(cells) >= 6
    names = runpy.run_path(str(TOUR))
    figure, grid = names["figure"], names["grid"]
    np.testing.assert_allclose(np.asarray(figure.data[0].z, dtype=float), grid.to_numpy())
    assert figure.layout.xaxis.title.text == "head" and grid.attrs["n"] > 0
    assert len(names["shared"]) == names["counts"]["total"] > 0
