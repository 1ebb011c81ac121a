"""The README's option table is the ingest options users read: it must match the code."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from attention_atlas.ingest.settings import IngestSettings, option_envvar

README = Path(__file__).resolve().parents[1] / "README.md"
ROW = re.compile(r"^\| `(--[a-z-]+)` \| `(ATLAS_[A-Z_]+)` \|", re.MULTILINE)


def documented_options() -> set[tuple[str, str]]:
    section = README.read_text().split("### `attention-atlas ingest` options", 1)[1]
    return set(ROW.findall(section.split("\n## ", 1)[0]))


def test_readme_lists_every_ingest_option_with_its_environment_variable() -> None:
    in_code = {(f.metadata["flag"], option_envvar(f)) for f in fields(IngestSettings)}
    documented = documented_options()
    assert in_code - documented == set(), "options missing from the README table"
    assert documented - in_code == set(), "README documents options the CLI does not have"
