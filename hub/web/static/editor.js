// The query editor: YASGUI (vendored from npm @zazuko/yasgui) over the hub's own endpoint.
// No remote calls: prefix and vocabulary autocompleters that would reach the web are switched off.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("editor-config").textContent);
  var prefixLines = Object.keys(config.prefixes).sort().map(function (p) {
    return "PREFIX " + p + ": <" + config.prefixes[p] + ">";
  }).join("\n");
  Yasgui.Yasqe.defaults.autocompleters = ["variables"];
  Yasgui.Yasqe.defaults.value = prefixLines + "\n\nSELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n)";
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: config.endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: config.endpoint }]; } },
    persistenceId: "chmkg-editor"
  });
  // YASGUI's own markup, made accessible (axe-core): names for its unlabelled fields, the "new tab"
  // button replaced by one outside the tab list (a tablist holds tabs only), the scrolling query area reachable
  // by keyboard. Idempotent: run again whenever YASGUI redraws (a new tab, a result).
  var root = document.getElementById("yasgui");
  function label(selector, text) {
    root.querySelectorAll(selector).forEach(function (el) {
      if (!el.getAttribute("aria-label")) { el.setAttribute("aria-label", text); }
    });
  }
  function repair() {
    label("input.autocomplete", root.dataset.labelTab);
    label(".CodeMirror textarea", root.dataset.labelQuery);
    label("select.tableSizer", root.dataset.labelRows);
    root.querySelectorAll(".tabsList button.addTab").forEach(function (button) {
      button.parentNode.style.display = "none";  // out of the tab list; the page's own "New tab" button stands in
    });
    root.querySelectorAll(".CodeMirror-scroll[tabindex='-1']").forEach(function (el) {
      el.setAttribute("tabindex", "0");
      el.setAttribute("aria-label", root.dataset.labelScroll);
    });
  }
  repair();
  new MutationObserver(repair).observe(root, { childList: true, subtree: true });
  var list = document.getElementById("examples");
  var fresh = document.createElement("li");
  var add = document.createElement("button");
  add.type = "button";
  add.id = "new-tab";
  add.textContent = root.dataset.labelNewTab;
  add.addEventListener("click", function () { yasgui.addTab(true); });
  fresh.appendChild(add);
  list.appendChild(fresh);
  config.examples.forEach(function (example) {
    var item = document.createElement("li");
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = example.name;
    button.addEventListener("click", function () {
      var tab = yasgui.addTab(true, { name: example.name });
      tab.setQuery(example.query);
    });
    item.appendChild(button);
    list.appendChild(item);
  });
})();
