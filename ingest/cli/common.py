"""What the ingest-side commands share beyond :mod:`attention_atlas.db.cli_common`: the
exception types that mean a user mistake (a bad model id, a missing file or field, conflicting
settings), each ending the command with one line and exit code 2."""

from __future__ import annotations

from attention_atlas.db.cli_common import store_errors


def user_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean "the user asked for something impossible"."""
    from attention_atlas.ingest.adapters import AdapterError
    from attention_atlas.ingest.batch_writer import StoreUnavailableError
    from attention_atlas.ingest.corpus import CorpusError
    from attention_atlas.ingest.distributed import WorkerError
    from attention_atlas.ingest.loading import CheckpointError
    from attention_atlas.ingest.settings import SettingsError

    return (
        *store_errors(),
        AdapterError,
        CorpusError,
        CheckpointError,
        SettingsError,
        WorkerError,
        StoreUnavailableError,
    )
