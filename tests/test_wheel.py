"""The wheel works without the checkout: built from the source tree, installed into a fresh
virtualenv, it adds one import name, ``attention_atlas`` (never a generic ``models`` or ``db`` that
would shadow a research project's own), migrates a database, ingests a tiny BERT and serves the
dashboard's assets.

The new venv reuses this venv's heavy dependencies (torch, transformers, dash, ...) through a
``.pth`` line naming its site-packages; a path listed in a ``.pth`` file is only appended to
``sys.path`` (``.pth`` files inside it are not run), so the editable install's finder stays off
and the project's packages come from the wheel. Commands run in a temporary folder, never in
the checkout.
"""

from __future__ import annotations

import os
import shutil
import site
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
from conftest import corpus_rows, write_csv

from attention_atlas.db.engine import make_engine
from attention_atlas.db.migrate import head_revision

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
IMPORT_NAME = "attention_atlas"
SUBPACKAGES = ("models", "db", "ingest", "dashboard")  # the checkout's folders, inside it
# names the wheel must not add to site-packages: what earlier wheels installed, and what the
# checkout root holds beside the package (root files, tests, benchmarks)
FOREIGN_NAMES = (*SUBPACKAGES, "atlas_migrations", "tests", "benchmarks", "support", "conftest")
# what the checkout holds that is no input to the build (a stale build/ would leak old modules
# into the wheel); dot folders (.venv, .git, caches) are left out too. tests/ and benchmarks/
# are copied: they sit beside the package in the checkout, and must stay out of the wheel.
NOT_SOURCE = {"build", "dist", "screenshots"}


def _copy_source(target: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n == "__pycache__" or n.endswith((".egg-info", ".db"))}
        if Path(folder) == ROOT:
            skipped |= {n for n in names if n in NOT_SOURCE or n.startswith(".")}
        if Path(folder) == ROOT / "benchmarks":
            skipped.add("out")  # bench stores, gigabytes
        return skipped

    shutil.copytree(ROOT, target, ignore=ignore)
    return target


def _run(*args: str | Path, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=_env(), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (args, result.stdout[-3000:], result.stderr[-3000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ATLAS_"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", TRANSFORMERS_VERBOSITY="error")
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel-build")
    source = _copy_source(work / "source")
    _run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "-w", work / "dist", source, cwd=work,
    )  # fmt: skip
    (built,) = (work / "dist").glob("attention_atlas-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed, reusing this venv's dependencies."""
    new = tmp_path_factory.mktemp("wheel-venv") / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", new, cwd=new.parent)
    python = new / "bin" / "python"
    # pip runs under the new interpreter (--python) and installs there, before the .pth below
    # could show it this venv's editable install.
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "--no-index", wheel, cwd=new.parent,
    )  # fmt: skip
    deps = "\n".join(site.getsitepackages()) + "\n"
    (_purelib(new) / "_test_venv_dependencies.pth").write_text(deps)
    return new


@pytest.fixture(scope="module")
def ingested(venv: Path, tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a database the installed ``attention-atlas ingest`` wrote (attention, rollout)."""
    work = tmp_path_factory.mktemp("wheel-ingest")
    corpus = write_csv(work / "corpus.csv", corpus_rows(12))
    url = f"sqlite:///{work / 'ingested.db'}"
    result = _run(
        venv / "bin" / "attention-atlas", "ingest", "-q", "--model", tiny_bert_dir,
        "--dataset", corpus, "--label-field", "label", "--methods", "attention,rollout",
        "--threads", "1", "--db", url, cwd=work,
    )  # fmt: skip
    assert "12/12 stored" in result.stdout, result.stdout
    return url


def _purelib(venv: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_path('purelib'))"
    return Path(_run(venv / "bin" / "python", "-c", code, cwd=venv).stdout.strip())


def _dist_info(names: set[str]) -> str:
    (folder,) = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
    return folder


def test_wheel_owns_one_import_name(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    dist_info = _dist_info(names)
    top_level = archive.read(f"{dist_info}/top_level.txt").decode().split()
    assert top_level == [IMPORT_NAME]
    assert {n.split("/")[0] for n in names} == {IMPORT_NAME, dist_info}
    inside = {n.split("/")[1] for n in names if n.startswith(f"{IMPORT_NAME}/")}
    assert not inside & {"tests", "benchmarks", "build", "screenshots"}, sorted(inside)


def _checkout_files(folder: str, *patterns: str) -> set[str]:
    """Files of the checkout's ``folder`` matching ``patterns``, as paths relative to the root."""
    found = {p for pattern in patterns for p in (ROOT / folder).glob(pattern)}
    return {p.relative_to(ROOT).as_posix() for p in found if "__pycache__" not in p.parts}


def test_wheel_holds_every_module_migration_asset_and_the_demo_corpus(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = set().union(*(_checkout_files(f, "**/*.py") for f in SUBPACKAGES))
    migrations = _checkout_files("alembic", "*.py", "script.py.mako", "versions/*.py")
    assets = _checkout_files("assets", "*.css", "*.js")
    assert len(migrations) >= 5 and len(assets) >= 2
    expected = {f"{IMPORT_NAME}/{path}" for path in modules | migrations}
    expected |= {f"{IMPORT_NAME}/dashboard/{path}" for path in assets}
    expected |= {f"{IMPORT_NAME}/__init__.py", f"{IMPORT_NAME}/ingest/demo/corpus.jsonl"}
    assert sorted(expected - names) == []
    assert not [n for n in names if "screenshots" in n or n.endswith(".png")]


def test_install_adds_attention_atlas_and_no_other_import_name(venv: Path, tmp_path: Path) -> None:
    purelib = _purelib(venv)
    added = {p.name for p in purelib.iterdir()} - {"_test_venv_dependencies.pth"}
    dist_info = _dist_info(added)
    assert added == {IMPORT_NAME, dist_info}, sorted(added)
    assert (purelib / dist_info / "top_level.txt").read_text().split() == [IMPORT_NAME]
    code = (
        "import importlib.util\n"
        f"print([n for n in {FOREIGN_NAMES!r} if importlib.util.find_spec(n) is not None])"
    )
    assert _run(venv / "bin" / "python", "-c", code, cwd=tmp_path).stdout.strip() == "[]"


def test_project_packages_and_resources_come_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    code = (
        "import importlib, importlib.resources as r, attention_atlas.db.migrate as m\n"
        f"for name in {SUBPACKAGES!r}:\n"
        f"    print(list(importlib.import_module('{IMPORT_NAME}.' + name).__path__)[0])\n"
        "print(r.files('attention_atlas.dashboard.assets') / 'atlas.css')\n"
        "print(r.files('attention_atlas.ingest.demo') / 'corpus.jsonl')\n"
        "print(m.script_location())\n"
    )
    located = _run(venv / "bin" / "python", "-c", code, cwd=tmp_path).stdout.split()
    assert len(located) == len(SUBPACKAGES) + 3
    for path in located:
        assert Path(path).resolve().is_relative_to(venv.resolve()), located
    assert Path(located[-3]).is_file() and Path(located[-2]).is_file()
    assert (Path(located[-1]) / "env.py").is_file()
    assert sorted(p.name for p in (Path(located[-1]) / "versions").glob("*.py")) == sorted(
        p.name for p in (ROOT / "alembic" / "versions").glob("*.py")
    )


def test_installed_dashboard_imports_without_the_ml_libraries(venv: Path, tmp_path: Path) -> None:
    code = (
        "import sys, attention_atlas.dashboard.server.app, attention_atlas.dashboard.pages\n"
        "print([m for m in ('torch', 'transformers', 'captum', 'shap') if m in sys.modules])"
    )
    assert _run(venv / "bin" / "python", "-c", code, cwd=tmp_path).stdout.strip() == "[]"


def test_db_upgrade_reaches_the_head_revision(venv: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    result = _run(venv / "bin" / "attention-atlas", "db", "upgrade", "--db", url, cwd=tmp_path)
    head = head_revision(make_engine("sqlite://"))
    assert result.stdout.strip() == f"database at revision {head}"


def test_ingest_stores_rows(ingested: str, venv: Path, tmp_path: Path) -> None:
    with closing(sqlite3.connect(ingested.removeprefix("sqlite:///"))) as connection:
        (examples,) = connection.execute("SELECT count(*) FROM examples").fetchone()
        (attention,) = connection.execute("SELECT count(*) FROM attention").fetchone()
        methods = {m for (m,) in connection.execute("SELECT method FROM attributions")}
    assert examples == 12 and attention > 0 and {"attention", "rollout"} <= methods
    listing = _run(venv / "bin" / "attention-atlas", "runs", "--db", ingested, cwd=tmp_path)
    assert "complete" in listing.stdout and "12/12" in listing.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_dashboard_serves_its_assets(ingested: str, venv: Path, tmp_path: Path) -> None:
    port = _free_port()
    command = [venv / "bin" / "attention-atlas", "serve", "--db", ingested, "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=tmp_path, env=_env(), stdout=out, stderr=out)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 45
            while True:
                assert server.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                try:
                    status, css = _get(f"{base}/assets/atlas.css")
                    break
                except OSError:  # not listening yet
                    time.sleep(0.3)
            assert status == 200 and b"{" in css, (status, css[:200])
            status, page = _get(f"{base}/")
            assert status == 200 and b"atlas.css" in page, page[:500]
        finally:
            server.terminate()
            server.wait(timeout=10)
