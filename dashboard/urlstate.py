"""The URL grammar of the dashboard: one frozen dataclass per page, one codec.

Every control lives in the query string. ``parse()`` never raises: unknown keys are ignored and
malformed values fall back to the default, integers outside ``[0, 2**63 - 1]`` included (they
would overflow SQL), and text loses NUL and lone surrogates (``attention_atlas.dashboard.inputs``).
``to_search()`` drops defaults and sorts keys, so each view has exactly one canonical link, and
values stay readable::

    /?measure=kendall&pair=attention,ig&agree=0.6&band=disagree&label=1&page=2
    /example/42?layer=5&head=3&token=7&view=word&pair=attention,ig

Corpus filter keys (shared by every page, so links between pages keep the filter):
``run`` run id; ``label`` / ``pred`` comma-separated class ids; ``correct`` yes|no;
``minlen`` / ``maxlen`` token counts; ``q`` text search; ``pair`` / ``ypair`` method pairs for
the x / y agreement; ``measure``; ``agree`` / ``disagree`` thresholds; ``band``
all|agree|between|disagree; ``box`` x0,x1,y0,y1 scatter box; ``ids`` lasso-selected ids;
``sort`` table column; ``desc`` 1 for descending; ``page`` 1-based table page; ``tag``
examples a reader's note tags so; ``color`` correct|tag, what colours the scatter;
``pmeasure`` auprc|token_f1|iou_f1, the plausibility measure that ``pmin`` / ``pmax``
(``method:value`` thresholds, comma-separated: ``pmin=attention:0.6&pmax=ig:0.3``) and the
table's ``plaus`` column of method ``pmethod`` (``sort=plaus``) read; sentence pairs:
``share`` a method id whose attribution mass is split by text, ``seg`` 1|2 which text's share
(default 2, the second: "hypothesis share of |IG|"), ``minshare`` / ``maxshare`` its range
(0..1); ``sort=share`` sorts by it.
Example page: ``view`` subword|word (absent = by length: words for long texts), ``specials``
1 to show, ``layer`` / ``head`` (absent = mean), ``token`` highlighted position, ``ref``
ig|shap, ``methods`` the tracks shown in that order (absent = all), ``density``
normal|compact. Heads page: ``ref``, ``stat``
rho|first|special, ``layer`` / ``head`` the selected head, ``imp`` gradient|ablation the
importance grid's measure. Example and heads pages, on an
encoder-decoder run: ``stack`` encoder|decoder|cross, the attention whose heads, rows and
heatmap are shown (absent = encoder; a run without stacks ignores it). Compare page: ``a`` /
``b`` run ids, ``method``, ``sim`` spearman|spearman_signed|jaccard_5, ``ref``; its side-by-side
view ``/compare/example``: ``a``, ``b``, ``source`` (source index), ``view``, ``specials``.
Faithfulness page: ``view`` probability|accuracy (the deletion curves' y axis), ``x``
k|fraction (their x axis: tokens deleted, or the deleted fraction of each example's content
tokens), ``method`` the consistency scatter's method, ``pfaith``
comprehensiveness|sufficiency (the plausibility view's x axis; its y is the filter's
``pmeasure``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, urlencode

from attention_atlas.dashboard import inputs
from attention_atlas.db import filter_grammar as g
from attention_atlas.db.analysis import deletion_axes
from attention_atlas.db.compare import SIMILARITIES
from attention_atlas.db.queries import BANDS, SORT_COLUMNS, CorpusFilter
from attention_atlas.models import vocabulary

VIEWS = ("subword", "word")
DENSITIES = ("normal", "compact")
FAITHFULNESS_VIEWS = ("probability", "accuracy")
FAITHFULNESS_AXES = ("comprehensiveness", "sufficiency")  # the plausibility view's x
DELETION_AXES = deletion_axes.AXES  # the deletion curves' x: tokens deleted, or the fraction
# the corpus filter keys' parsers are db's (the read API parses a copied link with them)
_int, _float, _ints, _text = (g.parse_int, g.parse_float, g.parse_ints, g.parse_text)
_pair, _box, _choice, _bool = (g.parse_pair, g.parse_box, g.parse_choice, g.parse_bool)
_tag, _correct = g.parse_tag, g.parse_correct
_method, _segment, _share = g.parse_method, g.parse_segment, g.parse_share
MAX_IDS = g.MAX_IDS


def _methods(value: str) -> tuple[str, ...]:
    """Known method ids in the order given, each once."""
    items = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    known = vocabulary.method_ids()
    if not items or any(m not in known for m in items):
        raise ValueError(value)
    return items


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(_fmt(v) for v in value)
    return str(value)


def _spec(
    parser: Callable[[str], Any], default: Any = None, fmt: Callable[[Any], str] = _fmt
) -> Any:
    return field(default=default, metadata={"parse": parser, "fmt": fmt})


def _correct_fmt(value: bool) -> str:
    return "yes" if value else "no"


def _mapping(query: Any) -> Mapping[str, Any]:
    """A query mapping from a mapping or a search string (cut to ``inputs.MAX_TEXT``)."""
    if isinstance(query, str):
        search = inputs.clean_text(query).lstrip("?")
        return dict(parse_qsl(search, keep_blank_values=True))
    return query if isinstance(query, Mapping) else {}


class _Codec:
    """parse / to_search / with_ shared by every page's state dataclass."""

    __dataclass_fields__: ClassVar[dict[str, Any]]  # every subclass is a dataclass

    @classmethod
    def parse(cls, query: Mapping[str, Any] | str | None = None) -> Self:
        """State from a query mapping (Dash passes ``layout(**query)``) or a search string.
        Never raises: anything but a mapping or a string is the default state."""
        query = _mapping(query)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = query.get(f.name)
            if isinstance(raw, list | tuple):  # a repeated key: the last one wins
                raw = raw[-1] if raw else None
            text = inputs.as_text(raw) if not isinstance(raw, list | tuple) else None
            if not text:
                continue
            try:
                values[f.name] = f.metadata["parse"](text)
            except (ValueError, KeyError, TypeError):
                continue  # a malformed value means the default, never an error page
        try:
            return cls(**values)
        except ValueError:
            return cls()

    def to_query(self) -> dict[str, str]:
        """Non-default values as strings, keys sorted."""
        out = {}
        for f in sorted(fields(self), key=lambda f: f.name):
            value = getattr(self, f.name)
            if value != f.default and value is not None and value != ():
                out[f.name] = f.metadata["fmt"](value)
        return out

    def to_search(self) -> str:
        """``?k=v&...`` (empty string when everything is default); commas stay readable."""
        query = self.to_query()
        return "?" + urlencode(query, safe=",:") if query else ""

    def with_(self, **changes: Any) -> Self:
        return replace(self, **changes)


@dataclass(frozen=True)
class CorpusState(_Codec):
    """Corpus page ``/`` (and the filter part of every other page)."""

    run: int | None = _spec(lambda v: _int(v, 1))
    label: tuple[int, ...] = _spec(_ints, ())
    pred: tuple[int, ...] = _spec(_ints, ())
    correct: bool | None = _spec(_correct, None, _correct_fmt)
    minlen: int | None = _spec(lambda v: _int(v, 0))
    maxlen: int | None = _spec(lambda v: _int(v, 0))
    q: str = _spec(_text, "")
    pair: tuple[str, str] = _spec(_pair, vocabulary.DEFAULT_PAIR)
    ypair: tuple[str, str] = _spec(_pair, vocabulary.DEFAULT_Y_PAIR)
    measure: str = _spec(_choice(lambda: tuple(vocabulary.MEASURES)), "spearman")
    agree: float = _spec(_float, 0.5)
    disagree: float = _spec(_float, 0.0)
    band: str = _spec(_choice(BANDS), "all")
    box: tuple[float, float, float, float] | None = _spec(_box)
    ids: tuple[int, ...] = _spec(_ints, ())
    sort: str = _spec(_choice(SORT_COLUMNS), "id")
    desc: bool = _spec(_bool, False)
    page: int = _spec(lambda v: _int(v, 1), 1)
    tag: str = _spec(_tag, "")
    color: str = _spec(_choice(("correct", "tag")), "correct")
    pmeasure: str = _spec(_choice(lambda: tuple(vocabulary.PLAUSIBILITY)), "auprc")
    pmin: tuple[tuple[str, float], ...] = _spec(g.parse_thresholds, (), g.format_thresholds)
    pmax: tuple[tuple[str, float], ...] = _spec(g.parse_thresholds, (), g.format_thresholds)
    pmethod: str | None = _spec(g.parse_method)
    share: str | None = _spec(_method)
    seg: int = _spec(_segment, 2)
    minshare: float | None = _spec(_share)
    maxshare: float | None = _spec(_share)

    def to_filter(self, run_id: int) -> CorpusFilter:
        return CorpusFilter(
            run_id=run_id,
            labels=self.label,
            predictions=self.pred,
            correct=self.correct,
            min_length=self.minlen,
            max_length=self.maxlen,
            text=self.q,
            pair=self.pair,
            y_pair=self.ypair,
            measure=self.measure,
            agree=self.agree,
            disagree=self.disagree,
            band=self.band,
            box=self.box,
            ids=self.ids,
            tag=self.tag,
            plaus_measure=self.pmeasure,
            plaus_min=self.pmin,
            plaus_max=self.pmax,
            plaus_method=self.pmethod,
            share=self.share,
            segment=self.seg,
            min_share=self.minshare,
            max_share=self.maxshare,
        )


FILTER_KEYS = tuple(f.name for f in fields(CorpusState))


@dataclass(frozen=True)
class _WithFilter(_Codec):
    """A page state that carries the corpus filter along (previous/next, heads, faithfulness)."""

    corpus: CorpusState = field(default_factory=CorpusState, metadata={})

    @classmethod
    def parse(cls, query: Mapping[str, Any] | str | None = None) -> Self:
        query = _mapping(query)
        own = {k: v for k, v in query.items() if k not in FILTER_KEYS}
        shared = {k: v for k, v in query.items() if k in FILTER_KEYS}
        state = super().parse(own)
        return replace(state, corpus=CorpusState.parse(shared))

    def to_query(self) -> dict[str, str]:
        own = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "corpus" and value != f.default and value is not None:
                own[f.name] = f.metadata["fmt"](value)
        return dict(sorted({**self.corpus.to_query(), **own}.items()))


@dataclass(frozen=True)
class ExampleState(_WithFilter):
    """Example page ``/example/<id>``."""

    view: str | None = _spec(_choice(VIEWS))  # None: by length (words for long texts)
    specials: bool = _spec(_bool, False)
    layer: int | None = _spec(lambda v: _int(v, 0))
    head: int | None = _spec(lambda v: _int(v, 0))
    token: int | None = _spec(lambda v: _int(v, 0))
    ref: str = _spec(_choice(vocabulary.reference_method_ids), vocabulary.default_reference())
    methods: tuple[str, ...] = _spec(_methods, ())  # () : every stored method, registry order
    density: str = _spec(_choice(DENSITIES), DENSITIES[0])
    stack: str = _spec(_choice(lambda: vocabulary.STACKS), vocabulary.MAIN_STACK)


@dataclass(frozen=True)
class HeadsState(_WithFilter):
    """Heads page ``/heads``."""

    ref: str = _spec(_choice(vocabulary.reference_method_ids), vocabulary.default_reference())
    stat: str = _spec(_choice(("rho", "first", "special")), "rho")
    layer: int | None = _spec(lambda v: _int(v, 0))
    head: int | None = _spec(lambda v: _int(v, 0))
    stack: str = _spec(_choice(lambda: vocabulary.STACKS), vocabulary.MAIN_STACK)
    imp: str = _spec(_choice(lambda: tuple(vocabulary.HEAD_IMPORTANCE)), "gradient")


@dataclass(frozen=True)
class FaithfulnessState(_WithFilter):
    """Faithfulness page ``/faithfulness``: ``view`` of the deletion curves (probability of
    the predicted class, or Karpekov & Miller's accuracy relative to k = 0), ``x`` their x
    axis (tokens deleted, or the deleted fraction), ``method`` whose consistency-test
    projection is drawn (absent = the first with stored vectors)."""

    view: str = _spec(_choice(FAITHFULNESS_VIEWS), FAITHFULNESS_VIEWS[0])
    x: str = _spec(_choice(DELETION_AXES), DELETION_AXES[0])
    method: str | None = _spec(_choice(vocabulary.method_ids))
    pfaith: str = _spec(_choice(FAITHFULNESS_AXES), FAITHFULNESS_AXES[0])


@dataclass(frozen=True)
class CompareState(_WithFilter):
    """Compare page ``/compare``: runs ``a`` and ``b`` over their shared examples (the corpus
    filter selects run A's examples); ``method`` whose most different examples are listed
    (absent = the first shared one), ``sim`` the similarity they are ranked by, ``ref`` the
    head grids' reference method."""

    a: int | None = _spec(lambda v: _int(v, 1))
    b: int | None = _spec(lambda v: _int(v, 1))
    method: str | None = _spec(_choice(vocabulary.method_ids))
    sim: str = _spec(_choice(tuple(SIMILARITIES)), "spearman")
    ref: str = _spec(_choice(vocabulary.reference_method_ids), vocabulary.default_reference())


@dataclass(frozen=True)
class CompareExampleState(_WithFilter):
    """Side-by-side view ``/compare/example``: the token rows of source example ``source`` in
    runs ``a`` and ``b``, stacked (``view`` and ``specials`` as on the example page)."""

    a: int | None = _spec(lambda v: _int(v, 1))
    b: int | None = _spec(lambda v: _int(v, 1))
    source: int | None = _spec(lambda v: _int(v, 0))
    view: str = _spec(_choice(("subword", "word")), "subword")
    specials: bool = _spec(_bool, False)
