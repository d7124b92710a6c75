// Concept autocomplete for the thesaurus browser: suggestions from the Skosmos-compatible REST API
// (/rest/v1/search, pref/alt/hidden labels in every language) fill a <datalist>; choosing one opens
// the concept. Without JavaScript the form still submits to the hub's search page.
(function () {
  "use strict";
  var input = document.getElementById("concept-q");
  var list = document.getElementById("concept-suggestions");
  if (!input || !list) { return; }
  var vocab = input.getAttribute("data-vocab") || "";
  var timer = null;
  var hrefs = {};
  var lastQuery = "";
  function fill(results) {
    hrefs = {};
    while (list.firstChild) { list.removeChild(list.firstChild); }
    results.forEach(function (r) {
      var label = r.matchedPrefLabel || r.altLabel || r.hiddenLabel || r.prefLabel;
      var text = label === r.prefLabel ? label : label + " → " + r.prefLabel;
      if (hrefs[text]) { return; }
      hrefs[text] = "/resource?iri=" + encodeURIComponent(r.uri);
      var option = document.createElement("option");
      option.value = text;
      list.appendChild(option);
    });
    list.setAttribute("data-count", String(list.children.length));
  }
  function lookup() {
    var q = input.value.trim();
    if (q.length < 2 || q === lastQuery || hrefs[input.value]) { return; }
    lastQuery = q;
    var url = "/rest/v1/search?maxhits=12&unique=true&query=" + encodeURIComponent(q + "*") + (vocab ? "&vocab=" + encodeURIComponent(vocab) : "");
    fetch(url, { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) { if (input.value.trim() === q) { fill(data.results || []); } })
      .catch(function () { /* offline or refused: the form still works */ });
  }
  input.addEventListener("input", function () {
    if (hrefs[input.value]) { window.location.href = hrefs[input.value]; return; }
    clearTimeout(timer);
    timer = setTimeout(lookup, 120);
  });
})();
