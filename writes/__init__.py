"""The one write path: every change to the store is parsed or staged, validated against the shapes,
and committed atomically with its provenance.

- :mod:`writes.ingest` — a whole source into its named graph (``chmkg load``, the Graph Store Protocol);
- :mod:`writes.update` — a SPARQL update, staged on a copy, validated, committed as a delta;
- :mod:`writes.backup` — backup and restore of the whole store.
"""

from writes.ingest import LoadResult, ParsedSource, ingest

__all__ = ["LoadResult", "ParsedSource", "ingest"]
