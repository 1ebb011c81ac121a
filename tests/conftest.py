"""Shared pytest fixtures: tiny checkpoints, migrated databases, PostgreSQL, shared data.

Everything here is generic; test-specific fixtures live in the test modules. The suite runs
offline (HF_HUB_OFFLINE=1) and builds every checkpoint it uses from a config.
"""

from __future__ import annotations

import csv
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from support.checkpoints import (  # noqa: E402 - after the environment is set
    CORPUS_WORDS,
    GPT2_TOKENIZER_DIR,
    SHARED_DATA,
    save_tiny_bert,
    save_tiny_gpt2,
    save_tiny_llama,
)

POSTGRES_ENV = "ATLAS_TEST_POSTGRES_URL"


@pytest.fixture(scope="session", autouse=True)
def _quiet_single_thread() -> None:
    """Tests share two cores with other work: one torch thread, no library chatter."""
    import torch
    import transformers

    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()


# -- checkpoints --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 4-head BERT sequence classifier (2 classes) saved with save_pretrained."""
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 4-head GPT2ForSequenceClassification with a small local BPE tokenizer."""
    return save_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))


@pytest.fixture(scope="session")
def tiny_gpt2_lm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GPT2LMHeadModel with the real GPT-2 tokenizer (zero-shot path)."""
    if not (GPT2_TOKENIZER_DIR / "vocab.json").exists():
        pytest.skip(f"real GPT-2 tokenizer files not found at {GPT2_TOKENIZER_DIR}")
    return save_tiny_gpt2(
        tmp_path_factory.mktemp("tiny-gpt2-lm"), lm_head=True, tokenizer_dir=GPT2_TOKENIZER_DIR
    )


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer LlamaForSequenceClassification (grouped-query attention) with the GPT-2
    tokenizer files."""
    if not (GPT2_TOKENIZER_DIR / "vocab.json").exists():
        pytest.skip(f"real GPT-2 tokenizer files not found at {GPT2_TOKENIZER_DIR}")
    return save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), GPT2_TOKENIZER_DIR)


@pytest.fixture(scope="session")
def tiny_llama_lm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer LlamaForCausalLM with the GPT-2 tokenizer files (zero-shot path)."""
    if not (GPT2_TOKENIZER_DIR / "vocab.json").exists():
        pytest.skip(f"real GPT-2 tokenizer files not found at {GPT2_TOKENIZER_DIR}")
    return save_tiny_llama(
        tmp_path_factory.mktemp("tiny-llama-lm"), GPT2_TOKENIZER_DIR, lm_head=True
    )


# -- corpora ------------------------------------------------------------------------------
def corpus_rows(n: int, *, seed: int = 0) -> list[dict[str, object]]:
    """``n`` labelled texts of varied length made from the tiny vocabulary (deterministic)."""
    words = CORPUS_WORDS
    rows = []
    for i in range(n):
        length = 3 + (i * 5 + seed) % 14
        text = " ".join(words[(i * 11 + j * 7 + seed) % len(words)] for j in range(length))
        rows.append({"text": text, "label": i % 2})
    return rows


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A CSV of 12 labelled texts of mixed lengths plus one whitespace-only row (index 5)."""
    rows = corpus_rows(12)
    rows.insert(5, {"text": "   ", "label": 0})
    return write_csv(tmp_path / "corpus.csv", rows)


# -- databases ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from attention_atlas.db.engine import make_engine
    from attention_atlas.db.migrate import upgrade

    path = tmp_path_factory.mktemp("db-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:  # fold the WAL into the file before copying it
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url_factory(tmp_path: Path, _migrated_sqlite_template: Path) -> Callable[..., str]:
    """``make(name="atlas.db", migrated=True)`` -> URL of a fresh SQLite file in tmp_path;
    migrated copies come from one template migrated once per session."""

    def make(name: str = "atlas.db", *, migrated: bool = True) -> str:
        path = tmp_path / name
        if migrated:
            shutil.copyfile(_migrated_sqlite_template, path)
        return f"sqlite:///{path}"

    return make


@contextmanager
def _fresh_postgres_database() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database on the test server, dropped afterwards.
    Skips when ATLAS_TEST_POSTGRES_URL is unset (``make test`` sets it)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway server)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"atlas_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (skips without the test server)."""
    with _fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def module_postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database shared by one module's tests (a store built once)."""
    with _fresh_postgres_database() as url:
        yield url


# -- shared data --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout (real corpora); skips when absent."""
    path = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} not found")
    assert path == SHARED_DATA
    return path


# -- demo -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the demo model, so the suite fine-tunes it once."""
    return tmp_path_factory.mktemp("demo-cache")
