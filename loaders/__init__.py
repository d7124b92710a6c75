"""One reader per source kind, all through one ingest path: parse → validate → replace the
source's named graph atomically, with provenance."""

from loaders.ingest import LoadResult, ParsedSource, ingest

__all__ = ["LoadResult", "ParsedSource", "ingest"]
