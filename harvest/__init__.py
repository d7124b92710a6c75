"""Harvesting the CHM network: the CBD APIs, InforMEA's OData service and national CHM sites.

A :class:`~harvest.sources.Source` lists and fetches a source's records in its documented shape
(``../shared/data/cbd-api/CBD-API.md``) and maps each to triples under the hub's IRIs;
:mod:`harvest.engine` keeps one named graph per source up to date: incremental, validated record by
record (a record that fails the shapes is quarantined, the rest loads), committed in atomic batches,
resumable, with a full sweep that removes what the source no longer has. :mod:`harvest.client` is
the polite HTTP client every source uses.
"""
