/* Token hover: highlight the same position in every method row; click pins it (sent to Dash). */
(function () {
  function spans(pos) {
    return document.querySelectorAll('#example-tokens .tok[data-pos="' + pos + '"]');
  }
  document.addEventListener("mouseover", function (event) {
    const tok = event.target.closest && event.target.closest("#example-tokens .tok");
    if (!tok) { return; }
    document.querySelectorAll("#example-tokens .tok-hl").forEach(function (el) { el.classList.remove("tok-hl"); });
    spans(tok.dataset.pos).forEach(function (el) { el.classList.add("tok-hl"); });
  });
  document.addEventListener("mouseout", function (event) {
    const tok = event.target.closest && event.target.closest("#example-tokens .tok");
    if (!tok) { return; }
    spans(tok.dataset.pos).forEach(function (el) { el.classList.remove("tok-hl"); });
  });
  document.addEventListener("click", function (event) {
    const tok = event.target.closest && event.target.closest("#example-tokens .tok");
    if (!tok || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    window.dash_clientside.set_props("example-token", { data: parseInt(tok.dataset.pos, 10) });
  });
})();
