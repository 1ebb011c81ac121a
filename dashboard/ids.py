"""Component ids of the dashboard, defined once (kebab-case). Callbacks and tests import these."""

# shell (app.py)
NAV = "nav"
NAV_LOCATION = "nav-location"
URL_SINK = "url-sink"
COPY_LINK = "copy-link"
COPY_STATUS = "copy-status"
ERROR_BANNER = "error-banner"  # a short message when a callback failed on the server
NAV_LINK = "nav-link"  # one per nav page: {"type": NAV_LINK, "page": <module>}
PROVENANCE = "run-provenance"  # on every page that shows one run

# corpus page
RUN = "corpus-run"
CORPUS_HEADER = "corpus-header"
LABEL = "corpus-label"
PRED = "corpus-pred"
CORRECT = "corpus-correct"
LENGTH_MIN = "corpus-minlen"
LENGTH_MAX = "corpus-maxlen"
SEARCH = "corpus-search"
PAIR = "corpus-pair"
YPAIR = "corpus-ypair"
MEASURE = "corpus-measure"
AGREE = "corpus-agree"
DISAGREE = "corpus-disagree"
BAND = "corpus-band"
SCATTER = "corpus-scatter"
SELECTION = "corpus-selection"
CLEAR_SELECTION = "corpus-clear-selection"
GRID = "corpus-grid"
SORT = "corpus-sort"
DESC = "corpus-desc"
PAGE = "corpus-page"
PAGE_INFO = "corpus-page-info"
COUNTS = "corpus-counts"
CSV_BUTTON = "corpus-csv-button"
CSV_DOWNLOAD = "corpus-csv-download"
STATE = "page-state"  # dcc.Store holding the canonical query string of the current page

# example page
EX_VIEW = "example-view"
EX_SPECIALS = "example-specials"
EX_LAYER = "example-layer"
EX_HEAD = "example-head"
EX_REF = "example-ref"
EX_TOKENS = "example-tokens"
EX_TOKEN = "example-token"
EX_HEATMAP = "example-heatmap"
EX_HEADGRID = "example-headgrid"
EX_TOPK = "example-topk"
EX_DELETION = "example-deletion"
EX_PREV = "example-prev"
EX_NEXT = "example-next"
EX_ID = "example-id"

# heads page
HD_REF = "heads-ref"
HD_STAT = "heads-stat"
HD_GRID = "heads-grid"
HD_TREND = "heads-trend"
HD_TABLE = "heads-examples"
HD_SELECTED = "heads-selected"

# faithfulness page
FA_CURVES = "faithfulness-curves"
FA_TABLE = "faithfulness-table"


def nav_link(page: object) -> dict[str, object]:
    """The id of the nav link to the page module ``page`` (or a pattern such as ``ALL``)."""
    return {"type": NAV_LINK, "page": page}
