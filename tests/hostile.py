"""Hostile values for the injection tests: each would break out of an IRI, a literal or a query if pasted."""

from __future__ import annotations

INJECTED = "http://127.0.0.1:8000/injected"
BREAKOUTS = [
    "> } } ; INSERT DATA { GRAPH <http://127.0.0.1:8000/graph/bundled> { <" + INJECTED + "> a <" + INJECTED + "> } } ; #",
    '" } } ; DROP ALL ; #',
    "\\u003E } ; DROP ALL",
    "\n} ; CLEAR ALL ; #",
    "# } }",
    "'} ; DROP ALL ; '",
]


def hostile_iris(prefix: str) -> list[str]:
    """A real IRI with each breakout appended, and the breakouts alone."""
    return [prefix + b for b in BREAKOUTS] + BREAKOUTS


def hostile_strings() -> list[str]:
    return BREAKOUTS + ["<script>", "a\\", 'x"y', "x'y", "?s ?p ?o", "} UNION { ?s ?p ?o"]
