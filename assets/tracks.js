/* Example page tracks (dashboard/tracks.py): put the server's HTML into the page, mark the
   lines in view on the overview strip, and scroll to / pin a position clicked on it. */
(function () {
  function box() { return document.getElementById("example-tokens"); }

  function markViewport() {
    const root = box();
    const strip = root && root.querySelector(".overview");
    const marker = strip && strip.querySelector(".ov-viewport");
    if (!marker) { return; }
    const units = parseInt(strip.dataset.units, 10) || 1;
    const top = strip.getBoundingClientRect().bottom;
    let first = null, last = null;
    root.querySelectorAll(".track-line").forEach(function (line) {
      const r = line.getBoundingClientRect();
      if (r.bottom > top && r.top < window.innerHeight) {
        if (first === null) { first = parseInt(line.dataset.first, 10); }
        last = parseInt(line.dataset.last, 10);
      }
    });
    if (first === null) { marker.style.display = "none"; return; }
    marker.style.display = "block";
    marker.style.left = (100 * first / units) + "%";
    marker.style.width = (100 * (last + 1 - first) / units) + "%";
  }

  function pin(pos) {
    const root = box();
    root.querySelectorAll(".tok-pinned").forEach(function (el) { el.classList.remove("tok-pinned"); });
    const cells = root.querySelectorAll('.tok[data-pos="' + pos + '"]');
    cells.forEach(function (el) { el.classList.add("tok-pinned"); });
    scrollToPinned(root);
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("example-token", { data: parseInt(pos, 10) });
    }
  }

  function scrollToPinned(root) {
    const word = root.querySelector(".tok-word.tok-pinned");
    if (word) { word.closest(".track-line").scrollIntoView({ block: "center" }); }
  }

  let pending = false;
  window.addEventListener("scroll", function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; markViewport(); });
  }, { passive: true });
  window.addEventListener("resize", markViewport);

  document.addEventListener("click", function (event) {
    const cell = event.target.closest && event.target.closest("#example-tokens .ov-row i");
    if (cell) { pin(cell.dataset.pos); }
  });

  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.atlas = Object.assign({}, window.dash_clientside.atlas, {
    showTracks: function (html) {
      const root = box();
      if (!root || typeof html !== "string") { return window.dash_clientside.no_update; }
      if (root.atlasHtml === html) { return window.dash_clientside.no_update; }  // already shown
      const opening = root.atlasHtml === undefined;
      root.innerHTML = html;
      root.atlasHtml = html;
      if (opening) { scrollToPinned(root); }  // a shared link's token=: show it, once
      markViewport();
      window.atlasTracksShownAt = performance.now();
      return window.atlasTracksShownAt;
    },
  });
})();
