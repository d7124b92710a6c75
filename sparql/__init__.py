"""Store access (embedded pyoxigraph or a remote SPARQL 1.1 endpoint) and named queries."""

from sparql.store import EmbeddedStore, RemoteStore, Store, open_store

__all__ = ["EmbeddedStore", "RemoteStore", "Store", "open_store"]
