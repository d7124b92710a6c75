"""Commits that stay validated when several hub processes write to one store.

Each write is planned and validated against the store as it was, then committed by one SPARQL update
whose every operation is guarded by the store's *write stamp* (a value in the meta graph that each
commit replaces). If another process committed in between, the stamp differs, the guarded update
changes nothing, and :func:`run` plans and validates again from the new state (a few times; then
:class:`WriteConflict`, 409). Validation and commit are one unit against a consistent state.

Whether the guarded update applied is read back from a marker only that commit writes (the stamp
itself may already have moved on again), then the marker is removed.

An embedded store can be opened by one process only; there the stamp is checked and the commit
applied as plain data operations under one process-wide lock (:meth:`Guarded.plain_text`): the same
guarantee, without the cost of large update templates.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from ontology.errors import ChmError, StoreUnavailable
from sparql.builder import fill, iri, term_text
from sparql.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

WRITE_STAMP = "https://w3id.org/chmkg/ns#writeStamp"
ATTEMPTS = 5
_EMBEDDED = threading.Lock()  # an embedded store's stamp check and commit, as one step in this process

_READ = "SELECT ?s WHERE { GRAPH $meta { $meta $stamp ?s } }"
_MARKER = "ASK { GRAPH $meta { $marker $stamp ?s } }"
_CLEAR_MARKER = "DELETE WHERE { GRAPH $meta { $marker $stamp ?s } }"


class WriteConflict(ChmError):
    """Other processes kept changing the store while this write was validated."""

    code = "E204"
    http_status = 409


def read_stamp(store: Store, meta_graph: str) -> str | None:
    rows = store.select(fill(_READ, meta=iri(meta_graph), stamp=ox.NamedNode(WRITE_STAMP)), union=False)
    return rows[0]["s"].value if rows else None


class Guarded:
    """The operations of one commit, each applied only while the stamp is still ``expected``.

    Rendered two ways: :meth:`text` guards every operation by the stamp in the update itself (for a
    store other processes may write: a remote one); :meth:`plain_text` is the same change as plain
    ``INSERT DATA``/``DELETE DATA`` operations, for an embedded store, which this process alone can
    open — :func:`run` checks the stamp and applies it under one lock. Large bodies cost far less as
    data than as templates (bench/harvest.py).
    """

    def __init__(self, meta_graph: str, expected: str | None) -> None:
        self.meta = iri(meta_graph)
        self.stamp = ox.NamedNode(WRITE_STAMP)
        self.expected = expected
        self.new = uuid.uuid4().hex
        self.marker = ox.NamedNode("urn:chmkg:commit:" + self.new)
        # (kind, graph term, pattern or lines): a body of lines is joined only when the commit is rendered (a bulk
        # commit never renders its additions)
        self._ops: list[tuple[str, str, str | list[bytes]]] = []
        self._inserted: list[tuple[str, list[bytes]]] = []  # (graph, lines) of the INSERT operations, for a bulk commit
        self.checked = True  # every line added was written by pyoxigraph (see insert_lines)
        self.new_subjects: frozenset[str] = frozenset()  # subjects the store has no triple about (see run's bulk path)

    def _guard(self) -> str:
        if self.expected is None:
            return ("FILTER NOT EXISTS { GRAPH " + term_text(self.meta) + " { " + term_text(self.meta) + " "
                    + term_text(self.stamp) + " ?any } }")
        return ("GRAPH " + term_text(self.meta) + " { " + term_text(self.meta) + " " + term_text(self.stamp) + " "
                + term_text(ox.Literal(self.expected)) + " }")

    def insert_lines(self, graph: str, lines: Iterable[bytes], *, checked: bool = False) -> None:
        """Add N-Triples lines to ``graph``. ``checked``: pyoxigraph wrote them (each term was checked when it was
        made, as :class:`ontology.triples.TripleSet` makes them), so a bulk load need not check their IRIs again."""
        lines = list(lines)
        if any(lines):
            self._ops.append(("INSERT", term_text(iri(graph)), lines))
            self._inserted.append((graph, lines))
            self.checked = self.checked and checked

    def only_inserts(self) -> list[tuple[str, list[bytes]]] | None:
        """The (graph, lines) added, when adding is all this commit does (a bulk commit can apply it)."""
        return self._inserted if self._ops and all(kind == "INSERT" for kind, _g, _b in self._ops) else None

    def delete_lines(self, graph: str, lines: Iterable[bytes]) -> None:
        lines = list(lines)
        if any(lines):
            self._ops.append(("DELETE", term_text(iri(graph)), lines))

    def clear_graph(self, graph: str) -> None:
        self._ops.append(("MATCH", term_text(iri(graph)), "?s ?p ?o"))

    def delete_values(self, graph: str, subject: str, predicate: str | None = None) -> None:
        """Remove ``subject predicate ?o`` (every predicate when ``predicate`` is None) from ``graph``."""
        p = term_text(iri(predicate)) if predicate else "?p"
        self._ops.append(("MATCH", term_text(iri(graph)), term_text(iri(subject)) + " " + p + " ?o"))

    def insert_terms(self, graph: str, triples: Iterable[tuple]) -> None:
        self.insert_lines(graph, [(" ".join(term_text(t) for t in triple) + " .").encode() for triple in triples])

    def _rendered(self, guarded: bool) -> list[str]:
        guard = self._guard() if guarded else ""
        out = []
        for kind, g, body in self._ops:
            if not isinstance(body, str):
                body = b"\n".join(body).decode()
            if kind == "MATCH":  # delete what matches a pattern
                out.append("DELETE { GRAPH " + g + " { " + body + " } } WHERE { " + guard + " GRAPH " + g + " { " + body + " } }")
            elif guarded:
                out.append(kind + " { GRAPH " + g + " {\n" + body + "\n} } WHERE { " + guard + " }")
            else:
                out.append(kind + " DATA { GRAPH " + g + " {\n" + body + "\n} }")
        return out

    def text(self) -> str:
        """The whole commit; the stamp moves last, so every operation above saw the old one."""
        m, st = term_text(self.meta), term_text(self.stamp)
        swap = ("DELETE { GRAPH " + m + " { " + m + " " + st + " ?old } } INSERT { GRAPH " + m + " { " + m + " " + st + " "
                + term_text(ox.Literal(self.new)) + " . " + term_text(self.marker) + " " + st + " "
                + term_text(ox.Literal(self.new)) + " } } WHERE { " + self._guard() + " OPTIONAL { GRAPH " + m + " { "
                + m + " " + st + " ?old } } }")
        return " ;\n".join([*self._rendered(True), swap])

    def plain_text(self) -> str:
        """The same commit unguarded, for :func:`run` to apply after checking the stamp under its lock.

        The stamp moves first: in one transaction, a read after a large write is slow (the store's
        reads merge the pending writes), and the swap's lookup is the only read a data commit has."""
        return " ;\n".join([self.swap_text(), *self._rendered(False)])

    def swap_text(self) -> str:
        """The stamp's move alone (unguarded)."""
        m, st = term_text(self.meta), term_text(self.stamp)
        return ("DELETE { GRAPH " + m + " { " + m + " " + st + " ?old } } INSERT { GRAPH " + m + " { " + m + " " + st + " "
                + term_text(ox.Literal(self.new)) + " } } WHERE { OPTIONAL { GRAPH " + m + " { " + m + " " + st + " ?old } } }")


def committed(store: Store, commit: Guarded) -> bool:
    """Whether ``commit`` applied; its marker is removed either way."""
    done = store.ask(fill(_MARKER, meta=commit.meta, marker=commit.marker, stamp=commit.stamp), union=False)
    if done:
        store.update(fill(_CLEAR_MARKER, meta=commit.meta, marker=commit.marker, stamp=commit.stamp))
    return done


def run(store: Store, meta_graph: str, plan: Callable[[Guarded], T], what: str = "the write", *, bulk: bool = False) -> T:
    """Plan, validate and commit ``plan`` against one state of the store, again if another process wrote.

    ``plan(commit)`` reads the store, validates, adds its operations to ``commit`` and returns its
    result; it runs again from the store's new state when the guarded commit did not apply. With
    ``bulk``, a commit that only adds goes to an embedded store through its bulk loader
    (:meth:`EmbeddedStore.insert_bulk`: undone on the next open if cut off) — for a process that
    alone uses the store.
    """
    for attempt in range(1, ATTEMPTS + 1):
        commit = Guarded(meta_graph, read_stamp(store, meta_graph))
        result = plan(commit)
        if not commit._ops:
            return result
        # an embedded store (this process alone writes it), or a store whose updates do not apply whole
        # (Virtuoso; hub processes over it share the writer lock): check the stamp and apply, under one lock
        if store.mode == "embedded" or not store.atomic_updates:
            with _EMBEDDED:
                if read_stamp(store, meta_graph) == commit.expected:
                    added = commit.only_inserts() if bulk else None
                    if added is not None and hasattr(store, "insert_bulk"):
                        store.insert_bulk(added, before=commit.swap_text(), checked=commit.checked,
                                          new_subjects=commit.new_subjects)
                    else:
                        store.update(commit.plain_text())
                    return result
        else:
            store.update(commit.text())
            if committed(store, commit):
                return result
        log.info("%s met a concurrent write (attempt %d); validating again", what, attempt)
    raise WriteConflict(f"{what} was not committed: other writers kept changing the store while it was validated "
                        f"({ATTEMPTS} attempts); try again")


class WriterLock:
    """One writer at a time among the processes that share the store's state folder.

    The stamp guard makes a commit conditional on the state it was validated on; a store that runs
    concurrent updates under snapshot isolation (Oxigraph does) can still let two guarded commits
    that start at the same moment both apply. Hub processes (and ``chmkg`` commands) over one store
    share its state folder (tokens, accounts, key — see docs/deploy.md), so an exclusive lock on a
    file there serialises their commits; the guard still covers writers that do not share it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> "WriterLock":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise StoreUnavailable(f"cannot take the writer lock {self.path}: {e.strerror or e}; nothing was written") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
