"""One hand-typed text through the ingest pipeline (``attention-atlas explain --text``).

The text becomes a one-item corpus whose source index is the next free one of its run, and
:func:`ingest.pipeline.run_ingest` does the rest: the same checkpoint loading, settings check,
batch computation and one-transaction write as ingest, so the stored numbers are those of
ingesting the text as a one-line corpus. Hand-typed texts get their own runs: the settings'
dataset is :data:`HAND_TYPED`, so the default run name is ``<checkpoint>-hand-typed-<hash>``
(one run per checkpoint and settings), and adding a text to a corpus run is refused as a
settings conflict (its dataset differs). A sentence pair is typed as two texts
(``--text`` and ``--text-pair``) and goes to a run of its own: its text field is
:data:`PAIR_FIELDS`, which is part of the settings hash, so pairs and single texts never share
a run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from attention_atlas.db import writers
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.db.migrate import upgrade
from attention_atlas.ingest.corpus import Corpus, CorpusItem
from attention_atlas.ingest.pipeline import run_ingest
from attention_atlas.ingest.settings import IngestSettings, SettingsError

HAND_TYPED = "hand-typed"  # the dataset of runs made of hand-typed texts
PAIR_FIELDS = "text,text_pair"  # the text field of a hand-typed pair's run
ATTEMPTS = 3  # source indexes tried when concurrent explains of one run race for them


@dataclass(frozen=True)
class ExplainedText:
    run_id: int
    run_name: str
    example_id: int
    source_index: int


def hand_typed_settings(settings: IngestSettings, pair: bool = False) -> IngestSettings:
    """``settings`` for a hand-typed text (``pair``: two texts): no corpus to select from, one
    text per batch."""
    return replace(
        settings,
        dataset=HAND_TYPED,
        split=None,
        text_field=PAIR_FIELDS if pair else "text",
        label_field=None,
        rationale_field=None,
        limit=None,
        sample=None,
        batch_size=1,
    )


def explain_text(
    text: str, settings: IngestSettings, text_pair: str | None = None
) -> ExplainedText:
    """Explain ``text`` (with ``text_pair``, the second text of a sentence pair) with
    ``settings`` (see :func:`hand_typed_settings`) and store it as the next example of run
    ``settings.name``. Raises SettingsError for an empty text and the pipeline's user errors
    (RunConflictError for a run with other settings, ...)."""
    if not text.strip():
        raise SettingsError("--text is empty: give the text to explain")
    if text_pair is not None and not text_pair.strip():
        raise SettingsError("--text-pair is empty: give the second text of the pair")
    if text_pair is not None and settings.zero_shot:
        raise SettingsError("--text-pair needs a pair classifier: --zero-shot takes one text")
    settings = hand_typed_settings(settings, pair=text_pair is not None)
    engine = make_engine(settings.db)
    upgrade(engine)
    sessions = session_factory(engine)
    for _ in range(ATTEMPTS):
        with sessions() as session:
            index = writers.next_source_index(session, settings.name)
        item = CorpusItem(index, text, None, text_pair=text_pair)
        corpus = Corpus(HAND_TYPED, None, (item,), index + 1, 0, settings.labels)
        result = run_ingest(settings, engine=engine, progress=False, corpus=corpus)
        if result.n_new == 1:
            with sessions() as session:
                example = writers.example_id(session, result.run_id, index)
            assert example is not None  # the ingest above stored it
            return ExplainedText(result.run_id, result.run_name, example, index)
        # another explain of the same run stored this index meanwhile: take the next one
    raise SettingsError(
        f"run {settings.name!r} is being written by other explains: {ATTEMPTS} source indexes "
        "in a row were taken meanwhile; try again"
    )
