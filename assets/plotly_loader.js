/* plotly.js: from a URL cached for good, and evaluated after what the page shows first.
   dcc.Graph loads plotly.js itself, once, the first time a graph renders: it appends a
   <script> whose src is window._dashPlotlyJSURL to <body>. That happens as the rest of the page
   renders (the corpus table), and evaluating 4.8 MB of JavaScript takes the main thread for a
   few hundred ms, so the table waited for it. Here:
   - window._dashPlotlyJSURL answers the fingerprinted URL the server wrote into
     window.atlasPlotlyURL (long-lived cache headers) and ignores the renderer's assignment of
     the unversioned one;
   - that <script> is held until the main thread is first idle (at most 1 s), its download
     started at once by a <link rel="preload">.
   Without window.atlasPlotlyURL nothing changes. */
(function () {
  const url = window.atlasPlotlyURL;
  if (!url) { return; }
  const href = new URL(url, window.location.href).href;
  Object.defineProperty(window, "_dashPlotlyJSURL", {
    configurable: true,
    get: function () { return url; },
    set: function () { /* the renderer's unversioned URL */ },
  });
  const body = document.body;
  const append = body.appendChild;
  const later = window.requestIdleCallback || function (run) { return setTimeout(run, 200); };
  body.appendChild = function (node) {
    if (node.tagName !== "SCRIPT" || node.src !== href) { return append.call(this, node); }
    const hint = document.createElement("link");
    hint.rel = "preload";
    hint.as = "script";
    hint.href = href;
    document.head.appendChild(hint);
    later(function () { append.call(body, node); }, { timeout: 1000 });
    return node;
  };
})();
