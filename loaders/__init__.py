"""Readers, one per source kind: each turns a source into a :class:`writes.ingest.ParsedSource` for the
one write path (parse → validate → replace the source's named graph atomically, with provenance)."""
