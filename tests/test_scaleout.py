"""Past one process (issue 20): Ray workers and shards store what one process stores.

One local Ray instance (2 CPUs, a small object store, its own temp folder) serves the module's
in-process runs. Every store is compared cell by cell with a single-process store of the same
run (``tests/tools/compare_stores.py``): workers, a worker killed mid-run, two shard processes,
PostgreSQL, and a PostgreSQL server restarted in the middle of an ingest.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import corpus_rows, write_csv
from tools.compare_stores import compare

from attention_atlas.ingest.pipeline import run_ingest
from attention_atlas.ingest.settings import IngestSettings

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray")

METHODS = ("attention", "rollout", "grad_input", "ig")
ATLAS = Path(sys.executable).with_name("attention-atlas")
PG_CLUSTER = Path(__file__).resolve().parent / "tools" / "pg_cluster.sh"


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> object:
    temp = tmp_path_factory.mktemp("ray")
    ray.init(
        num_cpus=2,
        object_store_memory=96 * 1024**2,
        _temp_dir=str(temp),
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("corpus") / "corpus.csv", corpus_rows(12))


def settings_for(model: Path, corpus: Path, db: str, **extra: object) -> IngestSettings:
    return IngestSettings(
        checkpoint=str(model),
        dataset=str(corpus),
        label_field="label",
        db=db,
        run_name="scaled",
        methods=METHODS,
        batch_size=2,
        threads=1,
        device="cpu",
        **extra,
    )


@pytest.fixture(scope="module")
def single_store(tmp_path_factory: pytest.TempPathFactory, tiny_bert_dir: Path, corpus: Path):
    """The reference: one process, one thread."""
    path = tmp_path_factory.mktemp("single") / "single.db"
    run_ingest(settings_for(tiny_bert_dir, corpus, str(path)), progress=False)
    return str(path)


def _status(db: str) -> tuple[str, int]:
    from sqlalchemy import create_engine, text

    from attention_atlas.db.engine import resolve_url

    engine = create_engine(resolve_url(db))
    with engine.connect() as connection:
        status, n_done = connection.execute(text("SELECT status, n_done FROM runs")).one()
        stored = connection.execute(text("SELECT count(*) FROM examples")).scalar()
    engine.dispose()
    assert stored == n_done, "the run's counter and its stored examples disagree"
    return status, n_done


def test_two_ray_workers_store_what_one_process_stores(
    local_ray: object, single_store: str, tiny_bert_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "ray.db")
    said: list[str] = []
    settings = settings_for(tiny_bert_dir, corpus, db, workers=2)
    result = run_ingest(settings, progress=False, say=said.append)
    assert result.n_new == 12
    assert len(said) == 6 and all(line.startswith("worker ") for line in said)  # -v: per batch
    assert len({line.split()[1] for line in said}) == 2, "both workers computed batches"
    assert _status(db) == ("complete", 12)
    assert compare(single_store, db)


@pytest.mark.postgres
def test_ray_workers_fill_a_postgresql_store(
    local_ray: object, single_store: str, tiny_bert_dir: Path, corpus: Path, postgres_url: str
) -> None:
    run_ingest(settings_for(tiny_bert_dir, corpus, postgres_url, workers=2), progress=False)
    assert _status(postgres_url) == ("complete", 12)
    assert compare(single_store, postgres_url)


def _worker_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-f", "ray::BatchWorker"], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def test_a_worker_killed_mid_run_costs_its_batch_only(
    local_ray: object, single_store: str, tiny_bert_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    killed: list[int] = []

    def kill_one_worker(stored: int) -> None:
        if not killed and (pids := _worker_pids()):
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    db = str(tmp_path / "killed.db")
    settings = settings_for(tiny_bert_dir, corpus, db, workers=2)
    run_ingest(settings, progress=False, on_batch=kill_one_worker)
    assert killed, "no worker process was found to kill"
    assert _status(db) == ("complete", 12)
    assert compare(single_store, db)


def test_a_checkpoint_the_workers_cannot_load_is_one_line_before_any_batch(
    local_ray: object, tiny_bert_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    from attention_atlas.ingest.distributed import WorkerError, WorkerPool

    settings = settings_for(tmp_path / "only-on-the-driver", corpus, "unused.db", workers=2)
    with pytest.raises(WorkerError) as raised, WorkerPool(settings, ["neg", "pos"]):
        pass
    message = str(raised.value)
    assert "could not load the checkpoint" in message and "only-on-the-driver" in message
    assert "\n" not in message


def _cli(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [str(ATLAS), *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _ingest_args(model: Path, corpus: Path, db: str, *extra: str) -> list[str]:
    return [
        "ingest", "-q", "--model", str(model), "--dataset", str(corpus), "--label-field", "label",
        "--db", db, "--run", "scaled", "--methods", ",".join(METHODS), "--batch-size", "2",
        "--threads", "1", "--device", "cpu", *extra,
    ]  # fmt: skip


def test_two_shard_processes_fill_one_run(
    single_store: str, tiny_bert_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "shards.db")  # a new file: both processes create and migrate it
    shards = [
        _cli(*_ingest_args(tiny_bert_dir, corpus, db, "--shard", f"{i}/2"), cwd=tmp_path)
        for i in range(2)
    ]
    for process in shards:
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr.decode()
    assert _status(db) == ("complete", 12)
    assert compare(single_store, db)
    listing = _cli("runs", "--db", db, cwd=tmp_path).communicate(timeout=120)[0].decode()
    assert "shards 2/2 done" in listing


def test_estimate_projects_the_total_onto_the_workers() -> None:
    from attention_atlas.ingest.estimate import Estimate, report

    estimate = Estimate(n_examples=1000, sample=8, seconds={"ig": 3000.0}, levers={})
    text = report(estimate, "cpu", workers=4)
    assert "on 4 workers" in text and "12.5 min" in text and "linear scaling" in text


def test_an_unreachable_ray_address_is_one_line_and_exit_2(
    tiny_bert_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = _ingest_args(tiny_bert_dir, corpus, str(tmp_path / "x.db"))
    process = _cli(*args, "--ray-address", f"127.0.0.1:{port}", cwd=tmp_path)
    _, stderr = process.communicate(timeout=300)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"Error: cannot reach the Ray cluster at 127.0.0.1:{port} (")


@pytest.fixture
def own_postgres() -> object:
    """A PostgreSQL server of this test's own (so it can be restarted): (url, folder). The
    folder is outside pytest's private temp tree: the server runs as user postgres."""
    if not os.environ.get("ATLAS_TEST_POSTGRES_URL"):
        pytest.skip("ATLAS_TEST_POSTGRES_URL is not set (make test provides PostgreSQL)")
    folder = Path(tempfile.mkdtemp(prefix="atlas-pg-restart-"))
    started = subprocess.run([str(PG_CLUSTER), "start", str(folder)], capture_output=True)
    assert started.returncode == 0, started.stderr.decode()
    yield started.stdout.decode().strip(), folder
    subprocess.run([str(PG_CLUSTER), "stop", str(folder)], capture_output=True)


@pytest.mark.postgres
def test_a_postgresql_restart_mid_ingest_is_retried(
    own_postgres: tuple[str, Path], single_store: str, tiny_bert_dir: Path, corpus: Path
) -> None:
    url, folder = own_postgres
    restarts: list[threading.Thread] = []

    def restart_once(stored: int) -> None:
        if not restarts:
            pause = [str(PG_CLUSTER), "pause", str(folder), "3"]
            restarts.append(threading.Thread(target=subprocess.run, args=(pause,)))
            restarts[0].start()

    settings = replace(settings_for(tiny_bert_dir, corpus, url), batch_size=2)
    run_ingest(settings, progress=False, on_batch=restart_once)
    restarts[0].join()
    assert _status(url) == ("complete", 12)
    assert compare(single_store, url)
