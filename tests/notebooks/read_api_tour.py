"""A tour of the read API, as a notebook of ``# %%`` cells (open it in VS Code or Jupytext, or
run it as a script; ``tests/test_read_api_tour.py`` runs it). It opens the demo store
(``atlas-demo.db`` from ``attention-atlas demo``, or ``ATLAS_TOUR_DB``) or, when there is none,
a small synthetic one; draws the heads page's grid with pandas and plotly; and opens the
examples a shared dashboard link selects."""

# %%
import os
import tempfile
from pathlib import Path

import plotly.express as px

import attention_atlas


def tour_store() -> str:
    """The store to tour: ATLAS_TOUR_DB, the demo store, or a fresh synthetic one."""
    chosen = os.environ.get("ATLAS_TOUR_DB") or "atlas-demo.db"
    if Path(chosen).exists() or "://" in chosen:
        return chosen
    from attention_atlas.db.engine import make_engine
    from attention_atlas.db.migrate import upgrade
    from attention_atlas.db.synthetic import fill_synthetic_store

    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'tour.db'}"
    engine = make_engine(url)
    upgrade(engine)
    fill_synthetic_store(engine, 80, 2, 3, 8, 40, 7, run_name="demo")
    engine.dispose()
    return url


store = attention_atlas.open(tour_store())
runs = store.runs()
runs[["id", "name", "checkpoint", "n_done", "methods"]]

# %% The newest run, and the examples the model got wrong
run = store.run(int(runs["id"].iloc[-1]))
wrong = run.examples(correct=False)
wrong[["id", "label_name", "prediction_name", "confidence", "length"]].head()

# %% The heads page's grid: mean Spearman of each head's attention with IG over the errors
grid = run.head_grid("ig", correct=False)
figure = px.imshow(
    grid,
    labels={"x": "head", "y": "layer", "color": "Spearman with IG"},
    color_continuous_scale="RdBu",
    zmin=-1,
    zmax=1,
    title=f"Mean head agreement with IG over {grid.attrs['n']} misclassified examples",
)
figure  # noqa: B018 (a notebook cell shows its last value)

# %% Per-layer agreement of attention and IG (Spearman), from the long agreements table
agreements = run.agreements(correct=False)
attention_ig = agreements[(agreements.method_a == "attention") & (agreements.method_b == "ig")]
attention_ig["spearman"].describe()

# %% A link a reading group shared: the same filter selects the same examples here
link = "http://localhost:8050/?correct=no&band=agree&agree=0.3&pair=attention,ig&page=2"
shared = run.examples(link)
counts = run.counts(link)
assert len(shared) == counts["total"]
assert set(shared["id"]) <= set(wrong["id"])

# %% The tokens IG ranks first in those examples
scores = run.scores("ig", link)
top = scores.loc[scores.groupby("example_id")["score"].idxmax(), ["example_id", "token", "score"]]
top.head()

# %%
store.close()
