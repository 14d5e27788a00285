/* news-etl: the tabs and collapsible sections of GX Data Docs without jQuery/Bootstrap
   (etl/data_docs_offline.py links this file in place of the CDN scripts). */
// The pages' inline scripts call jQuery plugins (tooltips, bootstrap-table, alerts) that
// are not loaded: a do-nothing `$` keeps them from throwing.
(function () {
  var nothing = new Proxy(function () { return nothing; }, {
    get: function (_target, key) { return key === "length" ? 0 : nothing; }
  });
  if (!window.jQuery) window.$ = window.jQuery = nothing;
})();

document.addEventListener("click", function (event) {
  var toggle = event.target.closest('[data-toggle="tab"],[data-toggle="collapse"]');
  if (!toggle) return;
  var target = document.querySelector(toggle.getAttribute("href") || toggle.dataset.target);
  if (!target) return;
  event.preventDefault();
  if (toggle.dataset.toggle === "collapse") {
    target.classList.toggle("show");
    return;
  }
  var list = toggle.closest(".nav");
  if (list) list.querySelectorAll(".nav-link").forEach(function (l) { l.classList.remove("active"); });
  toggle.classList.add("active");
  Array.prototype.forEach.call(target.parentNode.children, function (pane) {
    pane.classList.toggle("active", pane === target);
    pane.classList.toggle("show", pane === target);
  });
});
