"""What a user reads from an ingest: the progress bar counts whole examples and states its pace
in words at both ends ("12 examples/s", "46 s per example"), the summary line does too, and
``--estimate`` on a corpus it would have to run whole stores that run instead of discarding it."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from support.cli import ingest_args

from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.ingest.cli import main
from attention_atlas.ingest.progress import IngestBar, fit_name, pace
from attention_atlas.models import Example, Run

PACE = r"(\d+(\.\d)? (examples/s|s per example|min per example|h per example))"
LONG_FRACTION = re.compile(r"\d+\.\d{3,}")


def test_pace_reads_naturally_at_both_ends() -> None:
    assert pace(120.4) == "120 examples/s"
    assert pace(2.345) == "2.3 examples/s"
    assert pace(1.0) == "1.0 examples/s"
    assert pace(1 / 1.34) == "1.3 s per example"
    assert pace(1 / 46) == "46 s per example"  # the run: once "0.0 examples/s"
    assert pace(1 / 200) == "3.3 min per example"
    assert pace(1 / 7200) == "2.0 h per example"
    assert pace(0.0) == pace(None) == "? examples/s"


def test_a_slow_bar_counts_whole_examples_and_seconds_per_example(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """46 s per example (tqdm's clock replaced), the bar moving inside each batch: whole
    counts, seconds per example, and in 80 columns the name shortened, not the pace."""
    out = io.StringIO()
    bar = IngestBar(120, "a-forty-character-run-name-" + "x" * 13, ("ig", "shap"), True, out)
    clock = [0.0]
    monkeypatch.setattr(bar.bar, "_time", lambda: clock[0])
    monkeypatch.setattr(bar, "clock", lambda: clock[0])  # stage weights: not the test's load
    bar.bar.start_t = bar.bar.last_print_t = 0.0
    for batch in range(4):
        bar.start_batch(7)
        for stage in ("ig", "shap"):
            for share in (0.25, 0.5, 0.75, 1.0):
                clock[0] += 7 * 46 * 0.5 * 0.25
                bar.on_progress(stage, share)
                if (batch, stage, share) == (3, "shap", 0.5):
                    monkeypatch.setattr(bar.bar, "dynamic_ncols", None)
                    monkeypatch.setattr(bar.bar, "ncols", 80)
                    shown = str(bar.bar)
                    monkeypatch.setattr(bar.bar, "ncols", None)
        bar.end_batch()
    bar.close()
    assert "| 26/120 [" in shown and shown.endswith("46 s per example]"), shown
    assert shown.startswith("a-forty") and "… [shap]:" in shown and len(shown) <= 80, shown
    counts = re.findall(r"\| (\S+)/120 \[", out.getvalue())
    assert len(counts) > 20 and all(c.isdigit() for c in counts) and counts[-1] == "28", counts
    assert not LONG_FRACTION.search(out.getvalue()), out.getvalue()


def test_fit_name_keeps_the_stage() -> None:
    assert fit_name("short [ig]", 20) == "short [ig]"
    assert fit_name("a-long-run-name [faithfulness]", 22) == "a-long… [faithfulness]"
    assert fit_name("a-long-run-name", 8) == "a-long-…"


def _cli() -> list[str]:
    script = shutil.which("attention-atlas", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "attention_atlas.ingest.cli"]


@pytest.mark.slow
def test_ingest_progress_shows_whole_examples_and_a_pace(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    """A real ingest (IG reports from inside its loop, so the bar moves within each batch), its
    bar redrawn at every move (tqdm's TQDM_MININTERVAL and TQDM_MINITERS) on a stderr that is
    not a terminal."""
    args = ingest_args(tiny_bert_dir, tiny_corpus, sqlite_url_factory(), batch_size=5)
    extra = ["--methods", "attention,ig", "--ig-steps", "8", "--threads", "1"]
    env = {**os.environ, "TQDM_MININTERVAL": "0", "TQDM_MINITERS": "1e-9", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [*_cli(), *args, *extra], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    displays = [line for line in re.split(r"[\r\n]", done.stderr) if "%|" in line]
    counts = [re.search(r"\| (\S+)/12 \[", line) for line in displays]
    assert len(displays) > 6 and all(counts), displays  # moves within the 3 batches
    shown = [c.group(1) for c in counts if c]
    assert all(c.isdigit() for c in shown) and shown[-1] == "12", shown
    assert [int(c) for c in shown] == sorted(int(c) for c in shown)
    assert not LONG_FRACTION.search(done.stderr), done.stderr
    assert re.search(rf"{PACE}\]$", displays[-1].rstrip()), displays[-1]
    summary = done.stdout.strip().splitlines()[-1]
    assert "12 new examples" in summary and re.search(rf", {PACE}$", summary), summary
    assert not LONG_FRACTION.search(done.stdout)


def _stored(url: str) -> tuple[list[Run], int]:
    with session_factory(make_engine(url))() as session:
        runs = list(session.scalars(select(Run)))
        return runs, len(session.scalars(select(Example.id)).all())


def test_estimate_of_three_batches_or_fewer_stores_the_run(
    tiny_bert_dir: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    """12 examples in batches of 4: the timing sample would be the whole run, so it is stored
    and said so; the same run without --estimate then finds everything stored."""
    url = f"sqlite:///{tmp_path / 'est.db'}"
    args = [*ingest_args(tiny_bert_dir, tiny_corpus, url, batch_size=4), "--run", "small"]
    result = CliRunner().invoke(main, [*args, "--estimate", "-q"])
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert "\n" not in line, line
    assert line.startswith("the corpus is 12 examples, 3 batches or fewer: the estimate would ")
    assert "stored as run 'small' (id 1, 12 new examples) in sqlite:///" in line
    assert re.search(r": took \d+\.\d s$", line), line
    runs, n_examples = _stored(url)
    assert [(r.name, r.status, r.n_done) for r in runs] == [("small", "complete", 12)]
    assert n_examples == 12
    again = CliRunner().invoke(main, [*args, "-q"])
    assert again.exit_code == 0 and "0 new examples, 12/13 stored" in again.output


def test_estimate_of_four_batches_times_a_sample_and_stores_nothing(
    tiny_bert_dir: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    db = tmp_path / "est.db"
    args = ingest_args(tiny_bert_dir, tiny_corpus, f"sqlite:///{db}", batch_size=3)
    result = CliRunner().invoke(main, [*args, "--estimate", "-q"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("estimate for 12 examples on cpu (timed 9 examples")
    assert not db.exists()
