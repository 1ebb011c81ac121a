"""``python -m attention_atlas.ingest.cli``: the ``attention-atlas`` command."""

from attention_atlas.ingest.cli import main

main(prog_name="attention-atlas")
