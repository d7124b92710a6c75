"""The default build: the bundled dataset, then — when ../shared/data is present — the reference
texts, example CHM records, countries with their party status, the official KMGBF ontology, the marine
EBSA records, the reporting forms, the vocabularies (InforMEA, ECOLEX, GEMET, their mappings) and the
bundled decisions' subjects in the MEA thesaurus."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from loaders.bundled import read_bundled, read_bundled_subjects
from loaders.cbd_reference import read_convention, read_targets
from loaders.chm_records import read_chm_records
from loaders.countries import COUNTRIES, read_countries
from loaders.ebsa import FEATURES as EBSA, read_ebsa
from loaders.forms import QUESTIONNAIRES, read_forms
from loaders.kmgbf import ONTOLOGY as KMGBF_ONTOLOGY, read_kmgbf
from writes.ingest import ParsedSource

EXAMPLE_RECORDS = ("example_record_event.json", "example_record_nationalTarget.json")
VOCABULARIES = (("informea", "informea-thesaurus"), ("ecolex", "ecolex-vocabularies"), ("gemet", "gemet"))


KNOWN_FOLDERS = ("cbd-reference", "chm-schemas", "informea-thesaurus", "ecolex-vocabularies", "gemet", "kmgbf-ontology",
                 "treaty-memberships", "cbd-records")


def check_shared(shared_data: Path) -> None:
    """A folder named as the shared data must be it: missing, or holding none of its folders, is an error."""
    from ontology.errors import SourceError

    if not shared_data.is_dir():
        raise SourceError(f"--shared {shared_data}: no such folder (the shared reference data, e.g. ../shared/data)")
    if not any((shared_data / name).is_dir() for name in KNOWN_FOLDERS):
        raise SourceError(f"--shared {shared_data}: not the shared reference data — it holds none of "
                          f"{', '.join(KNOWN_FOLDERS)}; nothing was loaded")


# the files each reader needs: a partial copy of the shared data (``chmkg data fetch`` without a mirror
# brings only the byte copies of public repositories) builds what it can and skips the rest
NEEDS = {
    "targets": ("cbd-reference/targets/aichi_strategic_goals.json", "cbd-reference/targets/aichi_targets_short_text.json",
                "cbd-reference/targets/gbf_goals.json", "cbd-reference/targets/gbf_targets.json"),
    "convention": ("cbd-reference/convention-texts/cbd_articles_en.json",),
    "informea": ("informea-thesaurus/informea_terms_skosxl_2019.json",
                 "informea-thesaurus/informea_terms_definitions_topics_synonyms.utf8.csv"),
    "ecolex": ("ecolex-vocabularies/keywords.json",),
    "gemet": ("gemet/gemet-en.skos.rdf", "gemet/gemet-fr.skos.rdf"),
    "mappings": ("informea-thesaurus/informea_to_ecolex_keywords.json", "informea-thesaurus/informea_ecolex_geg_mappings.csv"),
}


def has(data: Path, reader: str) -> bool:
    return all((data / name).is_file() for name in NEEDS[reader])


def missing_readers(shared_data: Path) -> list[str]:
    """The readers of the default build that ``shared_data`` lacks files for."""
    return [name for name in NEEDS if not has(shared_data, name)]


# -- the build cache: what the slow readers made, kept until their input or the code changes ------------

PACKAGES = ("hub", "loaders", "ontology", "thesaurus", "tagging", "writes", "sparql", "shapes", "harvest")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The hub's code and the libraries a reader's output depends on: any change makes every cached
    output stale (one slow build after an upgrade, never a stale graph)."""
    import hashlib
    from importlib.metadata import version

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for lib in ("pyoxigraph", "rdflib", "skosify"):
        digest.update(f"{lib}={version(lib)}\n".encode())
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cached_reader(cache: Path | None, name: str, inputs: list[Path], read: Callable[[], ParsedSource]) -> Callable[[], ParsedSource]:
    """``read``, or the source it made last time when its input files (by content) and the code are the
    same: the ingest then finds the recorded checksum and leaves the graph alone without the reader's
    parse (the vocabularies and their mappings take most of a rebuild). The entry is the N-Triples and
    a small JSON file beside them, written whole (temporary file, then renamed)."""
    import hashlib
    import json
    import os

    def key() -> str:
        digest = hashlib.sha256(code_fingerprint().encode())
        for path in inputs:
            digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()

    def run() -> ParsedSource:
        if cache is None:
            return read()
        want = key()
        meta, data = cache / f"{name}.json", cache / f"{name}.nt"
        try:
            entry = json.loads(meta.read_text(encoding="utf-8"))
            if entry.get("key") == want:
                ntriples = data.read_bytes()
                if hashlib.sha256(ntriples).hexdigest() == entry["sha256"]:
                    return ParsedSource(name=entry["name"], reader=entry["reader"], location=entry["location"],
                                        checksum=entry["checksum"], ntriples=ntriples, title=entry["title"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no entry, or a damaged one: read again
        source = read()
        try:
            cache.mkdir(parents=True, exist_ok=True)
            for path, content in ((data, source.ntriples),
                                  (meta, json.dumps({"key": want, "sha256": hashlib.sha256(source.ntriples).hexdigest(),
                                                     "name": source.name, "reader": source.reader, "location": source.location,
                                                     "checksum": source.checksum, "title": source.title}).encode())):
                tmp = path.with_suffix(path.suffix + ".tmp")
                tmp.write_bytes(content)
                os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs the next build its time
        return source

    return run


def build_sources(base: str, shared_data: Path | None, vocabularies: bool = True,
                  cache: Path | None = None) -> Iterator[Callable[[], ParsedSource]]:
    """Readers for the default build, in load order (each is called lazily). ``cache``: where the
    vocabularies and their mappings keep what they made (:func:`cached_reader`)."""
    yield read_ontology
    yield lambda: read_bundled(base)
    if shared_data is None or not Path(shared_data).is_dir():
        return
    data = Path(shared_data)
    if has(data, "targets"):
        yield lambda: read_targets(data / "cbd-reference" / "targets", base)
    if has(data, "convention"):
        yield lambda: read_convention(data / "cbd-reference" / "convention-texts", base)
    records = [data / "chm-schemas" / name for name in EXAMPLE_RECORDS if (data / "chm-schemas" / name).is_file()]
    if records:
        yield lambda: read_chm_records(records, base, name="chm-examples")
    if (data / COUNTRIES).is_file():
        yield lambda: read_countries(data, base)
    if (data / KMGBF_ONTOLOGY).is_file():
        yield lambda: read_kmgbf(data, base)
    if (data / EBSA).is_file():
        yield lambda: read_ebsa(data, base)
    if (data / QUESTIONNAIRES).is_dir():
        yield lambda: read_forms(data, base)
    if not vocabularies:
        return
    from thesaurus.importers import read_mappings, read_vocabulary

    def inputs(*readers: str) -> list[Path]:
        return [data / name for reader in readers for name in NEEDS[reader]]

    present = [name for name, folder in VOCABULARIES if has(data, name)]
    for name in present:
        yield cached_reader(cache, f"thesaurus-{name}", inputs(name), lambda name=name: read_vocabulary(name, data)[0])
    if {"informea", "ecolex", "gemet"} <= set(present) and has(data, "mappings"):
        mappings = lru_cache(maxsize=1)(lambda: read_mappings(data))
        both = inputs("informea", "ecolex", "gemet", "mappings")
        yield cached_reader(cache, "thesaurus-mappings", both, lambda: mappings()[0])
        yield cached_reader(cache, "thesaurus-suggestions", both, lambda: mappings()[1])
    if "informea" in present:
        yield lambda: read_bundled_subjects(base)


# -- the seed documents: what the project was started from, as documents with references and subjects --
SEED_SUFFIXES = (".txt", ".md", ".html", ".pdf", ".docx")
SEED_SUBJECTS = 8  # suggestions kept as a seed's subjects


def seed_folder(shared_data: Path) -> Path:
    """../shared/seeds beside ../shared/data."""
    return Path(shared_data).parent / "seeds"


def read_seed_documents(folder: Path, store, base: str) -> ParsedSource:
    """Each file of ``folder`` as a ``chm:Document``: its title and language, the references it makes
    to what the store holds (decisions, paragraphs, articles, meetings, targets, documents) and the
    subjects the hub's tagger suggests for it. The texts stay in the files; the graph holds facts."""
    import hashlib

    from ontology import CHM, DCTERMS, RDF, SKOS
    from ontology.errors import SourceError
    from ontology.iris import Minter
    from ontology.triples import TripleSet, lit
    from tagging.documents import DocumentError, extract
    from ontology.documents import add_document
    from tagging.references import Resolver, extract_references
    from tagging.submission import analyse, known_iris, load_vocabulary, tagging_graphs
    from tagging.tagger import Tagger

    m = Minter(base)
    files = sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in SEED_SUFFIXES)
    if not files:
        raise SourceError(f"{folder}: no seed documents ({', '.join(SEED_SUFFIXES)})")
    graphs = tagging_graphs(store, m, None)
    tagger = Tagger(load_vocabulary(store, graphs)) if graphs else None
    resolver = Resolver(m, known_iris(store))
    t = TripleSet()
    digest = hashlib.sha256()
    for f in files:
        data = f.read_bytes()
        digest.update(f.name.encode() + b"\0" + data)
        try:
            doc = extract(data, f.name)
        except DocumentError as e:
            raise SourceError(f"seed {f.name}: {e.message}") from None
        d = m.document("seed " + f.stem)
        lang = doc.language if doc.language in ("en", "fr", "es") else "en"
        title = " ".join(doc.title.replace("*", " ").split())[:300] or f.stem
        t.add(d, RDF.type, CHM.Document)
        t.add(d, DCTERMS.identifier, lit(f.name))
        t.add(d, SKOS.prefLabel, lit(title, lang))
        t.add(d, DCTERMS.title, lit(title, lang))
        t.add(d, DCTERMS.language, lit(lang))
        t.add(d, CHM.documentType, lit("seed document"))
        if tagger is None:  # no vocabulary loaded: references only
            refs, subjects = resolver.resolve(extract_references(doc.text)), []
        else:
            a = analyse(doc, tagger, resolver, SEED_SUBJECTS, data)
            refs, subjects = a.references, a.suggestions
        for r in refs:
            if r.iri and r.status == "resolved" and r.iri != d:
                t.add(d, DCTERMS.references, r.iri)
            elif r.kind == "document":  # a UN document the store does not hold yet: declared from its symbol
                t.add(d, DCTERMS.references, add_document(t, m, r.key, labelled=False))
        for s in subjects:
            t.add(d, DCTERMS.subject, s.concept)
    nt = t.ntriples()
    body = nt if isinstance(nt, bytes) else nt.encode()
    return ParsedSource(name="seeds", reader="seeds", location=str(Path(folder).resolve()),
                        checksum="sha256:" + hashlib.sha256(digest.hexdigest().encode() + body).hexdigest(), ntriples=body,
                        title=f"The {len(files)} seed documents: titles, languages, references and suggested subjects")


def read_ontology() -> ParsedSource:
    """The hub's vocabulary (``ontology/chm.ttl``: its classes and properties, and the reused
    vocabularies' terms it labels) as graph ``ontology``: every term the pages show dereferences."""
    from importlib.resources import files

    from loaders.rdf import read_rdf

    path = Path(str(files("ontology").joinpath("chm.ttl")))
    source = read_rdf(path, name="ontology")
    source.title = "The CHM Knowledge Hub ontology: classes and properties with labels in en/fr/es, definitions, domains and ranges"
    return source
