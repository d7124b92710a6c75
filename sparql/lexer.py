"""A small SPARQL tokenizer: enough to know a request's form and to find SERVICE and WHERE clauses.

Strings, IRIs and comments are recognised so that keywords inside them never count. This is not a
parser — the store parses — but it lets the service decide before running anything: which result
formats apply (SELECT/ASK vs CONSTRUCT/DESCRIBE), which federated endpoints a query calls, and where
an update's ``USING`` clauses go.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00b7-\U000effff]+)
  | (?P<word>[A-Za-z_\u00c0-\U000effff][\w\-.\u00b7-\U000effff]*(?::[\w\-.:%\\\u00b7-\U000effff]*)?|:[\w\-.:%\\]*)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|[{}()\[\];,.*+/|^!=<>@?-])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_OPS = ("INSERT", "DELETE", "WITH", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokens(text: str) -> list[Token]:
    """Significant tokens (no whitespace, no comments)."""
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind in ("ws", "comment"):
            continue
        out.append(Token(kind, m.group(), m.start()))
    return out


@dataclass(frozen=True)
class Analysis:
    form: str | None  # SELECT, ASK, CONSTRUCT, DESCRIBE
    is_update: bool
    services: tuple[str, ...]
    cheap: bool  # a bound-subject lookup that cannot block before streaming (see is_cheap)
    own_dataset: bool = False  # the query names its dataset with FROM / FROM NAMED
    limit: int | None = None  # the outermost LIMIT (not a subquery's), None when the query has none


# Operators that make oxigraph compute everything before the first row (sorts, groups, hash-join
# build sides, closures) or call out: a query using any of them is never run on the event loop.
_BLOCKING = {"ORDER", "GROUP", "HAVING", "COUNT", "SUM", "AVG", "MIN", "MAX", "SAMPLE", "GROUP_CONCAT",
             "MINUS", "EXISTS", "SERVICE", "OPTIONAL", "UNION", "VALUES", "FROM", "GRAPH", "BIND"}
_PATH_PUNCT = {"+", "/", "|", "^", "?", "!"}


def _graph_block(toks: list[Token]) -> list[Token] | None:
    """``… WHERE { GRAPH ?g { <s> … } }``: the tokens with the one GRAPH block unwrapped, else None."""
    graphs = [i for i, t in enumerate(toks) if t.kind == "word" and t.upper == "GRAPH"]
    if len(graphs) != 1:
        return None
    i = graphs[0]
    if (i < 1 or toks[i - 1].text != "{" or i + 2 >= len(toks) or toks[i + 1].kind not in ("var", "iri")
            or toks[i + 2].text != "{"):
        return None
    rest = toks[i + 3:]
    closes = [j for j, t in enumerate(rest) if t.kind == "punct" and t.text == "}"]
    # the GRAPH block must be the whole group: its "}" directly followed by the group's "}"
    if len(closes) < 2 or closes[1] != closes[0] + 1:
        return None
    return toks[:i] + rest[:closes[0]] + rest[closes[0] + 1:]


def is_cheap(toks: list[Token]) -> bool:
    """A lookup: one query form, no blocking operator or property path, at most three triple
    patterns, and the first pattern's subject a constant IRI — also inside one ``GRAPH ?g { … }``
    block that is the whole group. Such a query streams from an index lookup, so it can run inline
    without a worker thread."""
    forms = [t for t in toks if t.kind == "word" and t.upper in QUERY_FORMS]
    if len(forms) != 1:
        return False
    unwrapped = _graph_block(toks)
    if unwrapped is not None:
        toks = unwrapped
    stars = 0
    for t in toks:
        if t.kind == "word" and t.upper in _BLOCKING:
            return False
        if t.kind == "punct":
            if t.text in _PATH_PUNCT:
                return False
            if t.text == "*":
                stars += 1
    if stars > 1:
        return False
    try:
        start = next(i for i, t in enumerate(toks) if t.kind == "punct" and t.text == "{")
    except StopIteration:  # DESCRIBE <iri> without a pattern
        return forms[0].upper == "DESCRIBE" and all(t.kind in ("iri", "word") for t in toks)
    if forms[0].upper == "CONSTRUCT":
        return False  # its template braces come first; not worth the special case
    body = toks[start + 1:]
    if not body or body[0].kind not in ("iri", "word") or body[0].kind == "word" and ":" not in body[0].text:
        return False
    patterns = 1 + sum(1 for t in body if t.kind == "punct" and t.text in (".", ";", ","))
    return patterns <= 3 and sum(1 for t in body if t.kind == "punct" and t.text == "{") == 0


def analyse(text: str) -> Analysis:
    """Form, update-ness, SERVICE targets and cheapness in one pass over the tokens. The analyses of
    the last 1,024 short texts are kept (an Analysis is immutable): clients repeat their queries."""
    return _analyse_short(text) if len(text) <= 4096 else _analyse(text)


def _analyse(text: str) -> Analysis:
    toks = tokens(text)
    first = _after_prologue(toks)
    is_update = first is not None and first.kind == "word" and first.upper in UPDATE_OPS
    form = next((t.upper for t in toks if t.kind == "word" and t.upper in QUERY_FORMS), None)
    own = not is_update and any(t.kind == "word" and t.upper == "FROM" for t in toks)
    return Analysis(form, is_update, tuple(service_targets_of(toks)), not is_update and is_cheap(toks), own,
                    None if is_update else outer_limit(text, toks))


_analyse_short = functools.lru_cache(maxsize=1024)(_analyse)
_DIGITS = re.compile(r"\s*(\d+)")


def outer_limit(text: str, toks: list[Token] | None = None) -> int | None:
    """The query's own ``LIMIT n``: the one outside every group (a subquery's LIMIT is inside braces)."""
    depth = 0
    for t in toks if toks is not None else tokens(text):
        if t.kind == "punct" and t.text == "{":
            depth += 1
        elif t.kind == "punct" and t.text == "}":
            depth -= 1
        elif depth == 0 and t.kind == "word" and t.upper == "LIMIT":
            m = _DIGITS.match(text, t.start + 5)
            return int(m.group(1)) if m else None
    return None


def query_form(text: str) -> str | None:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE`` — the first form keyword — or None."""
    for t in tokens(text):
        if t.kind == "word" and t.upper in QUERY_FORMS:
            return t.upper
    return None


def _after_prologue(toks: list[Token]) -> Token | None:
    """The first token after the PREFIX and BASE declarations."""
    i = 0
    while i < len(toks) and toks[i].kind == "word" and toks[i].upper in ("PREFIX", "BASE"):
        i += 3 if toks[i].upper == "PREFIX" else 2
    return toks[i] if i < len(toks) else None


def empties_the_store(text: str) -> bool:
    """Whether an update drops or clears every graph at once (``DROP ALL``, ``CLEAR SILENT NAMED`` …)."""
    toks = [t for t in tokens(text) if t.kind == "word"]
    for i, t in enumerate(toks):
        if t.upper in ("DROP", "CLEAR"):
            rest = toks[i + 1:i + 3]
            if rest and rest[0].upper == "SILENT":
                rest = rest[1:]
            if rest and rest[0].upper in ("ALL", "NAMED"):
                return True
    return False


def looks_like_update(text: str) -> bool:
    first = _after_prologue(tokens(text))
    return first is not None and first.kind == "word" and first.upper in UPDATE_OPS


def service_targets(text: str) -> list[str]:
    """The endpoints a query calls with ``SERVICE`` (IRIs as written, ``?var`` for variables)."""
    return service_targets_of(tokens(text))


def service_targets_of(toks: list[Token]) -> list[str]:
    out = []
    for i, t in enumerate(toks):
        if t.kind == "word" and t.upper == "SERVICE":
            j = i + 1
            if j < len(toks) and toks[j].kind == "word" and toks[j].upper == "SILENT":
                j += 1
            if j < len(toks):
                target = toks[j]
                out.append(target.text[1:-1] if target.kind == "iri" else target.text)
    return out


def add_using(update: str, default_graphs: list[str], named_graphs: list[str]) -> str:
    """Give every ``DELETE/INSERT … WHERE`` operation without USING or WITH the dataset given.

    ``default_graphs`` become ``USING <g>`` (its WHERE default graph), ``named_graphs`` become
    ``USING NAMED <g>``. Operations that name their own dataset are left as written; callers reject
    protocol-given graphs for those (SPARQL 1.1 Protocol §2.2.3).
    """
    if not default_graphs and not named_graphs:
        return update
    toks = tokens(update)
    clause = " ".join([f"USING <{g}>" for g in default_graphs] + [f"USING NAMED <{g}>" for g in named_graphs]) + " "
    inserts: list[int] = []
    depth = 0
    op_has_dataset = False
    prev: Token | None = None
    for t in toks:
        if t.kind == "punct" and t.text == "{":
            depth += 1
        elif t.kind == "punct" and t.text == "}":
            depth -= 1
        elif depth == 0 and t.kind == "punct" and t.text == ";":
            op_has_dataset = False
        elif depth == 0 and t.kind == "word":
            word = t.upper
            if word in ("USING", "WITH"):
                op_has_dataset = True
            elif word == "WHERE" and not (prev is not None and prev.kind == "word" and prev.upper == "DELETE"):
                if not op_has_dataset:
                    inserts.append(t.start)
        prev = t
    for pos in reversed(inserts):
        update = update[:pos] + clause + update[pos:]
    return update


def names_own_dataset(update: str) -> bool:
    """Whether any operation has USING or WITH (at the top level)."""
    depth = 0
    for t in tokens(update):
        if t.kind == "punct" and t.text in "{}":
            depth += 1 if t.text == "{" else -1
        elif depth == 0 and t.kind == "word" and t.upper in ("USING", "WITH"):
            return True
    return False
