"""What the README tells a reader about the code must match it: the ingest option table, and
the layout list (every folder and file it names exists, every folder of Python files is in it)."""

from __future__ import annotations

import os
import re
from dataclasses import fields
from pathlib import Path

from attention_atlas.ingest.settings import IngestSettings, option_envvar

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
ROW = re.compile(r"^\| `(--[a-z-]+)` \| `(ATLAS_[A-Z_]+)` \|", re.MULTILINE)


def documented_options() -> set[tuple[str, str]]:
    section = README.read_text().split("### `attention-atlas ingest` options", 1)[1]
    return set(ROW.findall(section.split("\n## ", 1)[0]))


def test_readme_lists_every_ingest_option_with_its_environment_variable() -> None:
    in_code = {(f.metadata["flag"], option_envvar(f)) for f in fields(IngestSettings)}
    documented = documented_options()
    assert in_code - documented == set(), "options missing from the README table"
    assert documented - in_code == set(), "README documents options the CLI does not have"


# a path in the layout list: words joined by "/", ending in "/" (a folder) or a file extension
NAMED_PATH = re.compile(
    r"(?<![\w./-])([\w.-]+(?:/[\w.-]+)*(?:/|\.(?:py|md|css|js|sh|jsonl|toml|ini|mako|txt)))(?![\w/])"
)
NOT_SOURCE = {"build", "dist", "__pycache__"}  # build outputs and caches


def layout_entries() -> dict[str, str]:
    """The README's layout list: each entry (a path at the start of a line) and its text."""
    block = README.read_text().split("\nLayout:\n\n```\n", 1)[1].split("```", 1)[0]
    entries: dict[str, str] = {}
    for line in block.splitlines():
        if line and not line[0].isspace():
            name, _, text = line.partition(" ")
            entries[name] = text
        elif line.strip():
            entries[name] += " " + line.strip()
    return entries


def python_folders() -> set[str]:
    """Every folder of the checkout that holds Python files (dot folders and build outputs
    aside), as ``path/`` relative to the root."""
    folders = set()
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [
            d for d in subfolders if not (d.startswith(".") or d in NOT_SOURCE or ".egg" in d)
        ]
        if folder != str(ROOT) and any(f.endswith(".py") for f in files):
            folders.add(Path(folder).relative_to(ROOT).as_posix() + "/")
    return folders


def test_everything_the_layout_names_exists() -> None:
    missing = []
    for entry, text in layout_entries().items():
        folder = ROOT / entry if entry.endswith("/") else ROOT
        if not (ROOT / entry).exists():
            missing.append(entry)
        missing += [f"{entry}: {n}" for n in NAMED_PATH.findall(text) if not (folder / n).exists()]
    assert missing == []


def test_the_layout_names_every_folder_of_python_files() -> None:
    assert python_folders() - set(layout_entries()) == set()
