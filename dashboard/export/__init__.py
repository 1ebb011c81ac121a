"""One example exported for slides: standalone HTML, PNG/SVG, and the example page's export
button."""
