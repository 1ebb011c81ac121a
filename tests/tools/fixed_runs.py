"""Ingest the fixed tiny BERT and GPT-2 runs that a refactor must leave unchanged.

    python tests/tools/fixed_runs.py OUT_DIR

Builds the seeded tiny BERT and GPT-2 classifiers of the test suite, takes the first 24
sentences of SST-2's dev set (from ../shared/data), and ingests each with every default method
into OUT_DIR/bert.db and OUT_DIR/gpt2.db. Run it with the old code and the new, then compare
with ``tests/tools/compare_stores.py OLD/bert.db NEW/bert.db`` (and gpt2.db).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_SENTENCES = 24


def main(out: Path) -> None:
    sys.path.insert(0, str(HERE.parent / "support"))
    sys.path.insert(0, str(HERE.parent))
    try:
        from support.fixtures_models import SHARED_DATA, save_tiny_bert, save_tiny_gpt2
    except ImportError:
        from support.checkpoints import SHARED_DATA, save_tiny_bert, save_tiny_gpt2

    out.mkdir(parents=True, exist_ok=True)
    corpus = out / "sst2-24.csv"
    with open(SHARED_DATA / "sst2" / "dev.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))[:N_SENTENCES]
    with open(corpus, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for row in rows:
            writer.writerow([row["text"], row["label"]])
    models = {"bert": save_tiny_bert(out / "tiny-bert"), "gpt2": save_tiny_gpt2(out / "tiny-gpt2")}
    cli = Path(sys.executable).with_name("attention-atlas")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for name, folder in models.items():
        db = out / f"{name}.db"
        db.unlink(missing_ok=True)
        command = [str(cli), "ingest", "-q", "--model", str(folder), "--dataset", str(corpus)]
        command += ["--label-field", "label", "--db", str(db), "--run", name]
        command += ["--threads", "1", "--device", "cpu"]
        subprocess.run(command, check=True, env=env)
        print(f"{name}: {db}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
