"""The chmkg command line over a real temporary store."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from conftest import BASE
from hub.cli import app

runner = CliRunner()


def chmkg(tmp_path, *args):
    # a store folder whose parents do not exist yet, as on a fresh clone (var/store)
    return runner.invoke(app, ["--store", str(tmp_path / "var" / "store"), "--base", BASE, *args])


@pytest.fixture(scope="session")
def built_once(tmp_path_factory):
    """One full build per session (~25 s); each test gets a copy of the closed store."""
    folder = tmp_path_factory.mktemp("built")
    r = chmkg(folder, "build")
    assert r.exit_code == 0, r.output
    return folder


@pytest.fixture
def built(built_once, tmp_path):
    shutil.copytree(built_once / "var", tmp_path / "var")
    return tmp_path


def test_build_then_stats_shows_classes_and_counts(built, monkeypatch):
    r = chmkg(built, "stats", "--json")
    assert r.exit_code == 0, r.output
    stats = json.loads(r.output)
    classes = stats["classes"]
    assert classes["https://w3id.org/chmkg/ns#Article"] == 42
    assert classes["https://w3id.org/chmkg/ns#Decision"] >= 19
    assert stats["graphs"][BASE + "graph/bundled"] > 2000
    import thesaurus.importers

    def not_again(*args):
        raise AssertionError("a vocabulary was read again although its files and the code are unchanged")

    # the vocabularies and their mappings come from the build cache: their readers are not called
    monkeypatch.setattr(thesaurus.importers, "read_vocabulary", not_again)
    monkeypatch.setattr(thesaurus.importers, "read_mappings", not_again)
    again = chmkg(built, "build")
    rows = [line for line in again.output.splitlines() if line.startswith("│")]
    assert len(rows) >= 15 and all("unchanged" in row for row in rows), again.output  # thesauri included: same bytes each run


def test_the_build_cache_reads_again_only_when_an_input_or_the_code_changes(tmp_path, monkeypatch):
    import hub.build
    from writes.ingest import ParsedSource, checksum

    source_file = tmp_path / "vocabulary.txt"
    source_file.write_text("one", encoding="utf-8")
    reads: list[str] = []

    def read() -> ParsedSource:
        text = source_file.read_text(encoding="utf-8")
        reads.append(text)
        nt = f'<http://example.org/{text}> <http://example.org/p> "{text}" .\n'.encode()
        return ParsedSource(name="thesaurus-x", reader="thesaurus", location=str(source_file), checksum=checksum(nt), ntriples=nt, title="X")

    cache = tmp_path / "cache"
    reader = hub.build.cached_reader(cache, "thesaurus-x", [source_file], read)
    first = reader()
    second = reader()
    assert reads == ["one"] and second == first  # the second came from the cache, the same in every field
    source_file.write_text("two", encoding="utf-8")  # the input changed: read again
    assert b"two" in reader().ntriples and reads == ["one", "two"]
    reader()
    assert reads == ["one", "two"]
    monkeypatch.setattr(hub.build, "code_fingerprint", lambda: "another version of the hub")  # the code changed
    reader()
    assert len(reads) == 3
    (cache / "thesaurus-x.nt").write_bytes(b"damaged")  # a damaged entry is read again, never used
    assert b"two" in reader().ntriples and len(reads) == 4
    uncached = hub.build.cached_reader(None, "thesaurus-x", [source_file], read)  # chmkg build --force
    uncached()
    uncached()
    assert len(reads) == 6


def test_validate_conforms_with_both_engines(built):
    assert chmkg(built, "validate").exit_code == 0
    r = chmkg(built, "validate", "--engine", "pyshacl", "--json")
    assert r.exit_code == 0 and json.loads(r.output)["conforms"] is True


def test_named_query_with_bindings_as_csv_and_json(built):
    r = chmkg(built, "query", "lineage-up", "-p", f"decision={BASE}decision/cop/10/15", "-o", "csv")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0] == "source,sourceLabel,kind,target,targetLabel,date"
    assert f"{BASE}decision/cop/2/3,Decision II/3: Clearing-house mechanism,recalls,{BASE}decision/cop/1/3" in r.output
    r = chmkg(built, "query", "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/chmkg/ns#Meeting> }", "-o", "json")
    assert json.loads(r.output) == [{"n": "35"}]  # COP 1–16, CP-MOP 1–11, NP-MOP 1–5 and three subsidiary meetings
    bad = chmkg(built, "query", "lineage-up", "-p", "decision=not an iri")
    assert bad.exit_code == 1 and "must be an IRI" in bad.output
    syntax = chmkg(built, "query", "SELEC ?x")
    assert syntax.exit_code == 1 and "syntax error" in syntax.output


def test_export_each_format(built, tmp_path):
    import pyoxigraph as ox

    for fmt, rdf in (("nquads", ox.RdfFormat.N_QUADS), ("trig", ox.RdfFormat.TRIG), ("turtle", ox.RdfFormat.TURTLE)):
        out = tmp_path / f"all.{fmt}"
        r = chmkg(built, "export", "--format", fmt, "-o", str(out))
        assert r.exit_code == 0, r.output
        assert len(list(ox.parse(out.read_bytes(), rdf))) > 3000
    one = chmkg(built, "export", "--graph", "bundled", "--format", "turtle", "-o", str(tmp_path / "b.ttl"))
    assert one.exit_code == 0
    missing = chmkg(built, "export", "--graph", "nope")
    assert missing.exit_code == 1 and "no graph" in missing.output


def test_load_errors_exit_non_zero_with_a_message(built, tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("<a> <b> .")
    r = chmkg(built, "load", str(bad))
    assert r.exit_code == 1 and "Error [E102]" in r.output and "line 1" in r.output
    r = chmkg(built, "load", str(tmp_path / "missing.ttl"))
    assert r.exit_code == 1 and "no such file" in r.output
    r = chmkg(built, "load", "--reader", "nope", str(bad))
    assert r.exit_code == 1 and "unknown reader" in r.output
    shape = tmp_path / "rec.ttl"
    shape.write_text('<http://e/r> a <https://w3id.org/chmkg/ns#Record> ; <http://purl.org/dc/terms/language> "en" .')
    r = chmkg(built, "load", str(shape))
    assert r.exit_code == 1 and "E201" in r.output and "http://e/r" in r.output and "title" in r.output


def test_token_create_list_revoke(tmp_path):
    created = chmkg(tmp_path, "token", "create", "alice", "--role", "editor", "--days", "30")
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[0]
    assert secret.startswith("chmkg_")
    stored = (tmp_path / "var" / "store-hub" / "tokens.json").read_text()
    assert secret not in stored and "alice" in stored  # only the hash is kept
    from hub.auth import TokenStore

    assert TokenStore(tmp_path / "var" / "store-hub" / "tokens.json").verify(secret).role == "editor"
    listed = chmkg(tmp_path, "token", "list")
    assert "alice" in listed.stdout and "editor" in listed.stdout and secret not in listed.stdout
    assert chmkg(tmp_path, "token", "revoke", "alice").exit_code == 0
    again = chmkg(tmp_path, "token", "revoke", "alice")
    assert again.exit_code == 1 and "no token named 'alice'" in again.output
    bad = chmkg(tmp_path, "token", "create", "bob", "--role", "superuser")
    assert bad.exit_code == 1 and "unknown role" in bad.output


def test_two_stores_side_by_side_share_no_tokens_accounts_or_keys(tmp_path):
    from hub.auth import TokenStore, Unauthorized
    from hub.settings import Settings

    a, b = Settings(store_path=str(tmp_path / "a")), Settings(store_path=str(tmp_path / "b"))
    for name in ("tokens_path", "users_path", "secret_path", "audit_path", "dumps_path", "backups_path"):
        assert getattr(a, name) != getattr(b, name), name
        assert getattr(a, name).is_relative_to(tmp_path / "a-hub"), name
    created = runner.invoke(app, ["--store", str(tmp_path / "a"), "token", "create", "alice"])
    secret = created.stdout.strip().splitlines()[0]
    assert TokenStore(a.tokens_path).verify(secret).name == "alice"
    with pytest.raises(Unauthorized):
        TokenStore(b.tokens_path).verify(secret)


def test_build_with_a_wrong_shared_folder_is_an_error_and_loads_nothing(tmp_path):
    wrong = tmp_path / "not-shared"
    wrong.mkdir()
    (wrong / "notes.txt").write_text("x")
    for folder in (wrong, tmp_path / "missing"):
        r = chmkg(tmp_path, "build", "--shared", str(folder))
        assert r.exit_code == 1 and "E101" in r.output and str(folder) in r.output, r.output
    assert not (tmp_path / "var" / "store").exists()


@pytest.mark.slow  # 20 CLI runs over a real store
def test_hostile_cli_options_reach_no_query_and_change_nothing(tmp_path):
    from conftest import snapshot
    from hostile import BREAKOUTS, hostile_iris

    from sparql.store import EmbeddedStore

    data = tmp_path / "notes.nt"
    data.write_text('<http://example.org/n> <http://www.w3.org/2000/01/rdf-schema#label> "n" .\n')
    assert chmkg(tmp_path, "load", str(data), "--graph", "notes").exit_code == 0
    store = tmp_path / "var" / "store"

    def state() -> bytes:
        s = EmbeddedStore(store)
        try:
            return snapshot(s)
        finally:
            s.close()

    before = state()
    for h in BREAKOUTS:
        runs = [("export", "--graph", h), ("thesaurus", "check", "--graph", h), ("tag", str(data), "--scheme", h)]
        runs += [("query", "lineage-up", "-p", "decision=" + v) for v in hostile_iris(BASE + "decision/cop/10/15")]
        for args in runs:
            r = chmkg(tmp_path, *args)
            assert r.exit_code in (0, 1) and "Traceback" not in r.output, (args, r.output)
            assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception)
    assert state() == before
    # a hostile graph name is minted into an IRI or refused; it never reaches the update as text
    for h in BREAKOUTS:
        r = chmkg(tmp_path, "load", str(data), "--graph", h)
        assert r.exit_code in (0, 1) and "Traceback" not in r.output, r.output
    after = state()
    assert all(line in after.split(b"\n") for line in before.split(b"\n") if b"graph/notes" in line and b"/meta>" not in line)


def test_build_loads_the_seeds_as_documents_and_derives_tracking(built):
    from conftest import SHARED

    if not (SHARED / "seeds").is_dir():
        pytest.skip(f"../shared/seeds not found at {SHARED / 'seeds'}")
    stats = json.loads(chmkg(built, "stats", "--json").output)
    assert stats["graphs"][BASE + "graph/seeds"] > 0 and stats["graphs"][BASE + "graph/tracking"] > 1000
    q = ("PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX chm: <https://w3id.org/chmkg/ns#> "
         "SELECT ?d ?title (COUNT(DISTINCT ?r) AS ?refs) (COUNT(DISTINCT ?s) AS ?subjects) WHERE { "
         "?d a chm:Document ; chm:documentType \"seed document\" ; dcterms:title ?title ; dcterms:references ?r ; dcterms:subject ?s } "
         "GROUP BY ?d ?title ORDER BY ?title")
    rows = json.loads(chmkg(built, "query", q, "-o", "json").output)
    assert len(rows) == len(list((SHARED / "seeds").glob("*.txt")))
    draft = next(r for r in rows if r["title"].startswith("Draft work programme for the clearing-house mechanism"))
    assert int(draft["refs"]) >= 3 and int(draft["subjects"]) >= 3
    # the work-programme note cites decision 15/16, paragraph 9 (f)
    q2 = ("PREFIX dcterms: <http://purl.org/dc/terms/> SELECT ?r WHERE { ?d dcterms:title ?t ; dcterms:references ?r "
          "FILTER (STRSTARTS(?t, \"Draft work programme\")) }")
    refs = {r["r"] for r in json.loads(chmkg(built, "query", q2, "-o", "json").output)}
    assert BASE + "decision/cop/15/16/para/9-f" in refs or BASE + "decision/cop/15/16" in refs
