"""A small SPARQL tokenizer: enough to know a request's form and to find SERVICE and WHERE clauses.

Strings, IRIs and comments are recognised so that keywords inside them never count. This is not a
parser — the store parses — but it lets the service decide before running anything: which result
formats apply (SELECT/ASK vs CONSTRUCT/DESCRIBE), which federated endpoints a query calls, and where
an update's ``USING`` clauses go.
"""

from __future__ import annotations

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


def query_form(text: str) -> str | None:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE`` — the first form keyword — or None."""
    for t in tokens(text):
        if t.kind == "word" and t.upper in QUERY_FORMS:
            return t.upper
    return None


def looks_like_update(text: str) -> bool:
    for t in tokens(text):
        if t.kind == "word" and t.upper in ("PREFIX", "BASE"):
            continue
        return t.kind == "word" and t.upper in UPDATE_OPS
    return False


def service_targets(text: str) -> list[str]:
    """The endpoints a query calls with ``SERVICE`` (IRIs as written, ``?var`` for variables)."""
    toks = tokens(text)
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
