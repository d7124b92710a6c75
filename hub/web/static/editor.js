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
  var list = document.getElementById("examples");
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
