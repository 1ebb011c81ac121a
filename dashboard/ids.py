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
TAG = "corpus-tag"
COLOR = "corpus-color"
SHARE_METHOD = "corpus-share-method"  # sentence pairs: whose attribution mass is split by text
SHARE_SEGMENT = "corpus-share-segment"
SHARE_MIN = "corpus-share-min"
SHARE_MAX = "corpus-share-max"
SHARE_FIELD = "corpus-share-field"  # the share fields' box, hidden for runs of one text
STATE = "page-state"  # dcc.Store holding the canonical query string of the current page

# example page
EX_VIEW = "example-view"
EX_SPECIALS = "example-specials"
EX_LAYER = "example-layer"
EX_HEAD = "example-head"
EX_REF = "example-ref"
EX_STACK = "example-stack"
EX_TOKENS = "example-tokens"
EX_TOKEN = "example-token"
EX_HEATMAP = "example-heatmap"
EX_ATTENTION_NOTE = "example-attention-note"  # what the run did not store (--attention-rows)
EX_HEADGRID = "example-headgrid"
EX_TOPK = "example-topk"
EX_DELETION = "example-deletion"
EX_PREV = "example-prev"
EX_NEXT = "example-next"
EX_ID = "example-id"
EX_METHODS = "example-methods"  # the tracks shown, in order
EX_DENSITY = "example-density"
EX_TEXT = "example-text"
EX_TRACKS = "example-tracks"  # dcc.Store: the tracks' HTML, put into EX_TOKENS in the browser
EX_TRACKS_SHOWN = "example-tracks-shown"
EX_EXPORT = "example-export"  # the Export button (dashboard/example_export.py)
EX_EXPORT_DOWNLOAD = "example-export-download"

# notes panel (on the example page; dashboard/notes_panel.py)
NOTES = "notes-panel"
NOTES_LIST = "notes-list"
NOTES_AUTHOR = "notes-author"
AUTHOR_STORE = "author-store"  # dcc.Store(storage_type="local"): the name, remembered
NOTES_BODY = "notes-body"
NOTES_TAGS = "notes-tags"
NOTES_SUBMIT = "notes-submit"
NOTES_CANCEL = "notes-cancel"
NOTES_MESSAGE = "notes-message"
NOTES_EDITING = "notes-editing"  # id of the note being edited, or None
NOTES_CHANGED = "notes-changed"  # bumped after every write: the list re-reads
NOTE_EDIT = "note-edit"  # {"type": NOTE_EDIT, "note": <id>}
NOTE_DELETE = "note-delete"

# "Save this view" in the nav bar (dashboard/save_view.py) and the views page
SAVE_VIEW = "save-view"
SAVE_VIEW_FORM = "save-view-form"
SAVE_VIEW_NAME = "save-view-name"
SAVE_VIEW_DESCRIPTION = "save-view-description"
SAVE_VIEW_AUTHOR = "save-view-author"
SAVE_VIEW_SUBMIT = "save-view-submit"
SAVE_VIEW_URL = "save-view-url"  # the page's path and query, read in the browser on submit
SAVE_VIEW_MESSAGE = "save-view-message"
VIEWS_LIST = "views-list"

# heads page
HD_REF = "heads-ref"
HD_STAT = "heads-stat"
HD_GRID = "heads-grid"
HD_TREND = "heads-trend"
HD_TABLE = "heads-examples"
HD_SELECTED = "heads-selected"
HD_STACK = "heads-stack"
HD_IMP = "heads-importance-kind"
HD_IMP_GRID = "heads-importance-grid"
HD_ROLE_GRID = "heads-role-grid"
HD_LAYERS = "heads-sentiment-structure"
HD_CORR = "heads-correlation"
HD_IMP_TABLE = "heads-importance-examples"

# faithfulness page
FA_CURVES = "faithfulness-curves"
FA_TABLE = "faithfulness-table"

# compare page (dashboard/pages/compare.py) and its side-by-side view (compare_example.py)
CP_MESSAGE = "compare-message"  # why there is nothing to compare
CP_SANITY = "compare-sanity"  # the sanity-check banner (B randomizes A's checkpoint)
CP_MEDIANS = "compare-medians"
CP_METHOD = "compare-method"
CP_SIM = "compare-sim"
CP_REF = "compare-ref"
CP_DIST = "compare-distribution"
CP_WORST = "compare-worst"
CP_SIDE_LINK = "compare-side-link"  # {"type": CP_SIDE_LINK, "rank": <0 = most different>}
CP_AGREEMENT = "compare-agreement"
CP_HEADS = "compare-heads"
CP_DELETION = "compare-deletion"
CP_ACCURACY = "compare-accuracy"
CP_OUTCOMES = "compare-outcomes"
CP_SIDE_A = "compare-side-a"
CP_SIDE_B = "compare-side-b"
FA_VIEW = "faithfulness-view"  # probability | accuracy
FA_AXIS = "faithfulness-axis"  # k | fraction
FA_CURVES_NOTE = "faithfulness-curves-note"
FA_METHOD = "faithfulness-method"  # the consistency scatter's method
FA_CONSISTENCY = "faithfulness-consistency"  # silhouette per method
FA_SCATTER = "faithfulness-scatter"
FA_SCATTER_NOTE = "faithfulness-scatter-note"


def nav_link(page: object) -> dict[str, object]:
    """The id of the nav link to the page module ``page`` (or a pattern such as ``ALL``)."""
    return {"type": NAV_LINK, "page": page}


# human rationales and plausibility (dashboard/plausibility_panels.py)
EX_RATIONALE_NOTE = "example-rationale-note"  # marked tokens, cut by truncation
EX_SCORES = "example-scores"  # faithfulness and plausibility per method of one example
CO_PLAUS = "corpus-plausibility"  # the corpus page's plausibility filter fields
CO_PMEASURE = "corpus-pmeasure"
CO_PMIN = "corpus-pmin"
CO_PMAX = "corpus-pmax"
CO_PMETHOD = "corpus-pmethod"
FA_PLAUS = "faithfulness-plausibility"  # the plausibility view
FA_PMEASURE = "faithfulness-pmeasure"
FA_PFAITH = "faithfulness-pfaith"
FA_PLAUS_FIG = "faithfulness-plausibility-figure"
FA_PLAUS_TABLE = "faithfulness-plausibility-table"
