"""Decision tracking end to end: statuses derived with their reasons (from plain decision text too),
the tracking API and pages with filters and exports, statuses editors record through draft →
publish → revert with roles, the CLI, and hostile values on every route."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pyoxigraph as ox
import pytest
from conftest import BASE, META, graph, snapshot
from fastapi.testclient import TestClient
from hostile import hostile_strings
from typer.testing import CliRunner

from hub.cli.main import app as cli
from hub.settings import Settings
from hub.tracking import build_index, derive, refresh
from hub.web.app import create_app
from loaders.bundled import read_bundled
from ontology import CHM
from ontology.iris import Minter
from tagging.decision_rdf import decision_triples
from tagging.structure import segment_text
from writes.ingest import ParsedSource, checksum, ingest

M = Minter(BASE)
STATUS = BASE + "scheme/decision-status/"
X15 = """X/15. Scientific and technical cooperation and the clearing-house mechanism
The Conference of the Parties,
Recalling decision IX/30 on the clearing-house mechanism,
1. Adopts the mission, goals and objectives of the clearing-house mechanism for 2011-2020;
2. Decides to retire decisions II/3 and III/4;
3. Requests the Executive Secretary: (a) To develop a knowledge network; (b) To report to the Conference of the Parties at its eleventh meeting;
4. Invites Parties to strengthen their national clearing-house mechanisms by 2030;
"""


def load_text(store, text: str, symbol: str) -> None:
    nt = decision_triples(segment_text(text), symbol, M).ntriples()
    data = nt if isinstance(nt, bytes) else nt.encode()
    ingest(store, ParsedSource("x15-text", "test", "inline", checksum(data), data, "X/15 text"), graph("x15-text"), META)


def statuses(source: ParsedSource) -> dict[str, tuple[str, str]]:
    """node → (status, reason) from a derived tracking graph."""
    triples = list(ox.parse(source.ntriples, ox.RdfFormat.N_TRIPLES))
    current = {t.subject.value: t.object.value.removeprefix(STATUS) for t in triples if t.predicate.value == CHM.currentStatus}
    assessment = {t.subject.value: t.object.value for t in triples if t.predicate.value == CHM.statusAssessment}
    reason = {t.subject.value: t.object.value for t in triples if t.predicate.value == CHM.statusReason}
    return {x: (s, reason[assessment[x]]) for x, s in current.items()}


# -- derivation -----------------------------------------------------------------------------------
def test_statuses_from_plain_decision_text_follow_deadlines_and_later_acts(bundled_store, settings):
    load_text(bundled_store, X15, "X/15")
    before = statuses(derive(bundled_store, BASE, today=date(2011, 1, 1)))
    after = statuses(derive(bundled_store, BASE, today=date(2031, 1, 1)))
    p3b, p4 = M.decision_paragraph("X/15", "3 (b)"), M.decision_paragraph("X/15", "4")
    assert before[p3b][0] == "active" and "COP-11" in before[p3b][1]
    assert after[p3b][0] == "elapsed" and "COP-11 (ended 2012-10-19)" in after[p3b][1]
    assert before[p4][0] == "active" and after[p4] == ("elapsed", after[p4][1]) and "2030" in after[p4][1]
    # paragraph 2 retires II/3 and III/4: whatever the date, with the paragraph named as the reason
    for d in ("II/3", "III/4"):
        assert after[M.decision(d)] == ("retired", "retired by decision X/15 para 2")


def test_decision_lineage_is_derived_from_paragraph_links(bundled_store):
    load_text(bundled_store, X15, "X/15")
    triples = {(t.subject.value, t.predicate.value, t.object.value)
               for t in ox.parse(derive(bundled_store, BASE).ntriples, ox.RdfFormat.N_TRIPLES)}
    assert (M.decision("X/15"), "http://data.europa.eu/eli/ontology#repeals", M.decision("II/3")) in triples
    assert (M.decision("X/15"), "http://data.europa.eu/eli/ontology#cites", M.decision("IX/30")) in triples


def test_the_index_filters_by_meeting_actor_status_and_refuses_an_unknown_status(bundled_store, settings):
    load_text(bundled_store, X15, "X/15")
    refresh(bundled_store, settings)
    idx = build_index(bundled_store, settings)
    cop10 = idx.filter(meeting="COP-10")
    assert cop10 and {r.meeting_code for r in cop10} == {"COP-10"}
    by_key = {r.symbol for r in idx.filter(actor="executive-secretary")}
    assert "X/15" in by_key and by_key == {r.symbol for r in idx.filter(actor=M.actor("executive-secretary"))}
    assert "X/15" in {r.symbol for r in idx.filter(actor="parties")}
    assert idx.filter(actor="nobody-at-all") == []
    assert {r.symbol for r in idx.filter(status="retired")} == {"II/3", "III/4"}
    with pytest.raises(Exception, match="unknown status"):
        idx.filter(status="bogus")


# -- HTTP -----------------------------------------------------------------------------------------
@pytest.fixture
def client(tmp_path):
    settings = Settings(base=BASE, store_path=str(tmp_path / "store"), shared_data=str(tmp_path / "none"), rate_limit=0)
    app = create_app(settings)
    hub = app.state.hub
    ingest(hub.store, read_bundled(BASE), graph("bundled"), META)
    load_text(hub.store, X15, "X/15")
    refresh(hub.store, settings)
    tokens = {role: hub.tokens.create(f"t-{role}", role) for role in ("reader", "editor", "publisher")}
    with TestClient(app) as c:
        c.tokens, c.hub = tokens, hub
        yield c


def H(c, role: str) -> dict:
    return {"Authorization": f"Bearer {c.tokens[role]}"}


def test_api_decisions_filters_pages_and_exports_csv(client):
    r = client.get("/api/decisions", params={"meeting": "COP-10", "status": "active", "limit": 5})
    body = r.json()
    assert r.status_code == 200 and body["total"] == int(r.headers["X-Total-Count"]) and len(body["decisions"]) == min(5, body["total"])
    assert all(d["meeting"] == "COP-10" and d["status"] == "active" and d["reason"] for d in body["decisions"])
    retired = client.get("/api/decisions", params={"status": "retired", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(retired.text)))
    assert retired.headers["content-type"].startswith("text/csv")
    assert {row["symbol"] for row in rows} == {"II/3", "III/4"} and all("X/15 para 2" in row["reason"] for row in rows)
    actor = client.get("/api/decisions", params={"actor": "executive-secretary"}).json()
    assert "X/15" in {d["symbol"] for d in actor["decisions"]}
    assert client.get("/api/decisions", params={"status": "bogus"}).status_code == 400
    assert client.get("/api/decisions", params={"limit": 0}).status_code == 400


def test_elements_api_gives_acts_actors_deadlines_and_statuses_in_tree_order(client):
    r = client.get("/api/decisions/decision X/15/elements")
    body = r.json()
    assert r.status_code == 200 and body["symbol"] == "X/15"
    numbers = [e["number"] for e in body["elements"]]
    assert numbers.index("PP1") < numbers.index("1") < numbers.index("3") < numbers.index("3 (a)") < numbers.index("3 (b)") < numbers.index("4")
    p3b = next(e for e in body["elements"] if e["number"] == "3 (b)")
    assert p3b["depth"] == 1 and p3b["status"] == "elapsed" and "COP-11" in p3b["reason"]
    assert p3b["acts"] == [{"act": "requests", "actors": [M.actor("executive-secretary")], "due": M.meeting("cop", 11), "acts_on": []}]
    p2 = next(e for e in body["elements"] if e["number"] == "2")
    assert set(p2["links"]["repeals"]) == {M.decision("II/3"), M.decision("III/4")}
    assert client.get("/api/decisions/X/999/elements").status_code == 404
    assert client.get("/api/decisions/not-a-symbol/elements").status_code == 400


def test_dashboard_cells_link_to_the_decisions_they_count(client):
    page = client.get("/tracking")
    assert page.status_code == 200
    board = client.get("/api/tracking/dashboard").json()
    cop10 = next(m for m in board["meetings"] if m["key"] == "COP-10")
    link = "/tracking/decisions?meeting=COP-10&amp;status=active"
    assert link in page.text
    listed = client.get("/tracking/decisions", params={"meeting": "COP-10", "status": "active"})
    assert f'<span id="total">{cop10["counts"]["active"]}</span>' in listed.text
    assert listed.text.count('class="status status-active"') == min(100, cop10["counts"]["active"])


def test_decision_page_shows_the_paragraph_tree_with_badges_and_filters(client):
    page = client.get("/decision/cop/10/15.html")
    assert page.status_code == 200
    text = page.text
    assert 'class="act">requests</span>' in text and "Executive Secretary" in text
    assert 'title="its deadline, COP-11 (ended 2012-10-19)' in text
    only_invites = client.get("/decision/cop/10/15.html", params={"act": "invites"}).text
    tree = only_invites.split('<ol class="tree">', 1)[1].split("</ol>", 1)[0]
    assert 'class="act">invites</span>' in tree and 'class="act">requests</span>' not in tree


def test_a_status_goes_draft_publish_revert_with_roles_and_the_derivation_follows(client):
    node = M.decision_paragraph("X/15", "3 (a)")
    assert client.post("/api/tracking/status", json={"node": node, "status": "implemented"}, headers=H(client, "reader")).status_code == 403
    r = client.post("/api/tracking/status", json={"node": node, "status": "implemented", "note": "reported in CBD/SBI/4/7"},
                    headers=H(client, "editor"))
    assert r.status_code == 201
    change = r.json()["change"]
    drafts = client.get("/api/tracking/changes", params={"status": "draft"}).json()
    assert [d["change"] for d in drafts] == [change]
    assert client.post("/api/tracking/changes/publish", json={"change": change}, headers=H(client, "editor")).status_code == 403
    pub = client.post("/api/tracking/changes/publish", json={"change": change}, headers=H(client, "publisher"))
    assert pub.status_code == 200, pub.text
    el = next(e for e in client.get("/api/decisions/X/15/elements").json()["elements"] if e["number"] == "3 (a)")
    assert el["status"] == "implemented" and "recorded by t-publisher" in el["reason"]
    assert "reported in CBD/SBI/4/7" in el["reason"]
    # revert: a draft that takes the recorded status away; published, the derived status is back
    rv = client.post("/api/tracking/changes/revert", json={"change": change}, headers=H(client, "editor"))
    assert rv.status_code == 200
    assert client.post("/api/tracking/changes/publish", json={"change": rv.json()["change"]}, headers=H(client, "publisher")).status_code == 200
    el = next(e for e in client.get("/api/decisions/X/15/elements").json()["elements"] if e["number"] == "3 (a)")
    assert el["status"] == "active"


def test_bad_status_changes_are_refused_and_change_nothing(client):
    store = client.hub.store
    before = snapshot(store)
    ed = H(client, "editor")
    cases = [
        ({"node": M.decision_paragraph("X/15", "1"), "status": "bogus"}, "unknown status"),
        ({"node": BASE + "actor/executive-secretary", "status": "active"}, "not a decision"),
        ({"node": "not an iri", "status": "active"}, "IRI"),
        ({"node": 5, "status": "active"}, "string fields"),
    ]
    for body, message in cases:
        r = client.post("/api/tracking/status", json=body, headers=ed)
        assert r.status_code == 400 and message in r.text, (body, r.text)
    assert client.post("/api/tracking/status", content=b"{nope", headers={**ed, "content-type": "application/json"}).status_code == 400
    assert client.post("/api/tracking/changes/explode", json={"change": BASE + "x"}, headers=H(client, "publisher")).status_code in (400, 404)
    assert snapshot(store) == before


@pytest.mark.parametrize("value", hostile_strings())
def test_hostile_values_on_every_tracking_route_are_answered_and_change_nothing(client, value):
    store = client.hub.store
    before = snapshot(store)
    for name in ("meeting", "actor", "status", "subject", "target"):
        for path in ("/api/decisions", "/tracking/decisions"):
            r = client.get(path, params={name: value})
            assert r.status_code in (200, 400), (path, name, r.status_code)
            if r.status_code == 200 and path == "/api/decisions":
                assert r.json()["total"] == 0
            if path == "/tracking/decisions":
                assert "<script>" not in r.text  # escaped on the page
    from urllib.parse import quote

    assert client.get("/api/decisions/" + quote(value, safe="") + "/elements").status_code in (400, 404)
    assert client.get("/api/decisions/X/15/elements", params={"lang": value}).status_code == 200
    assert client.get("/decision/cop/10/15.html", params={"act": value, "actor": value, "status": value}).status_code == 200
    assert client.get("/api/tracking/changes", params={"node": value}).status_code in (200, 400, 422)
    for body in ({"node": value, "status": "active"}, {"node": M.decision("X/15") + value, "status": "active"},
                 {"node": M.decision("X/15"), "status": value}, {"node": M.decision("X/15"), "status": "implemented", "note": value}):
        r = client.post("/api/tracking/status", json=body, headers=H(client, "editor"))
        assert r.status_code in (201, 400, 422), r.text
    for action in ("publish", "reject", "revert"):
        assert client.post(f"/api/tracking/changes/{action}", json={"change": value}, headers=H(client, "publisher")).status_code in (400, 404, 422)
    # the browser forms: a refusal comes back as a message on the changes page, escaped
    r = client.post("/tracking/status", data={"node": value, "status": "active", "note": value}, headers=H(client, "editor"),
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/tracking/changes?")
    r = client.post("/tracking/changes", data={"change": value, "action": "publish", "back": value}, headers=H(client, "publisher"),
                    follow_redirects=False)
    assert r.status_code == 303 and "status=draft" in r.headers["location"]
    page = client.get("/tracking/changes", params={"status": value, "msg": value}, headers=H(client, "editor"))
    assert page.status_code == 200 and "<script>" not in page.text
    assert store.select("SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } FILTER (CONTAINS(STR(?s), 'injected')) } LIMIT 1") == []
    assert {g for g in store.named_graphs()} >= {graph("bundled"), graph("tracking")}
    # a note is plain data: the only change a hostile value may make is a draft in the history graph
    after = snapshot(store)
    changed = set(after.split(b"\n")) ^ set(before.split(b"\n"))
    assert all(graph("tracking-history").encode() in line or META.encode() in line for line in changed)


# -- CLI ------------------------------------------------------------------------------------------
def test_cli_structure_eval_elements_and_tracking(tmp_path):
    runner = CliRunner()
    store = str(tmp_path / "store")
    text = tmp_path / "x15.txt"
    text.write_text(X15, encoding="utf-8")
    r = runner.invoke(cli, ["--store", store, "structure", str(text), "--json"])
    assert r.exit_code == 0, r.output
    els = json.loads(r.stdout)["elements"]
    assert [e["acts"][0]["act"] for e in els if e["kind"] == "paragraph"] == ["adopts", "retires", "requests", "invites"]
    assert runner.invoke(cli, ["--store", store, "structure", str(text), "--load"]).exit_code == 1  # --load needs --symbol
    r = runner.invoke(cli, ["--store", store, "structure", str(text), "--symbol", "X/15", "--load"])
    assert r.exit_code == 1 and "holds no decision X/15" in r.output  # nothing built yet
    from sparql.store import EmbeddedStore

    s = EmbeddedStore(store)
    ingest(s, read_bundled(BASE), graph("bundled"), META)
    s.close()
    r = runner.invoke(cli, ["--store", store, "structure", str(text), "--symbol", "X/15", "--load"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["--store", store, "tracking", "list", "--status", "retired", "-o", "json"])
    assert r.exit_code == 0 and {d["symbol"] for d in json.loads(r.stdout)} == {"II/3", "III/4"}
    r = runner.invoke(cli, ["--store", store, "tracking", "show", "X/15", "--json"])
    assert r.exit_code == 0 and any(e["number"] == "3 (b)" and e["status"] == "elapsed" for e in json.loads(r.stdout)["elements"])
    assert runner.invoke(cli, ["--store", store, "tracking", "show", "X/999"]).exit_code == 1
    assert runner.invoke(cli, ["--store", store, "tracking", "derive"]).exit_code == 0
    r = runner.invoke(cli, ["eval-elements", "--json"])
    scores = json.loads(r.stdout)
    assert r.exit_code == 0 and scores["elements"] >= 60
    assert scores["per_field"]["act"]["f1"] >= 0.9 and scores["per_field"]["actors"]["f1"] >= 0.9
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    assert runner.invoke(cli, ["eval-elements", str(bad)]).exit_code == 1


def test_structure_of_a_missing_or_binary_file_is_a_clear_error(tmp_path):
    runner = CliRunner()
    r = runner.invoke(cli, ["--store", str(tmp_path / "s"), "structure", str(tmp_path / "none.txt")])
    assert r.exit_code == 1 and "no such file" in r.output
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    r = runner.invoke(cli, ["--store", str(tmp_path / "s"), "structure", str(binary)])
    assert r.exit_code == 1 and "not UTF-8" in r.output



# -- named queries ----------------------------------------------------------------------------------
def test_named_tracking_queries_answer_the_researchers_questions(client):
    def run(name: str, **params) -> list[dict]:
        r = client.get(f"/api/queries/{name}", params={**params, "format": "json"})
        assert r.status_code == 200, r.text
        return r.json()["rows"]

    open_rows = run("open-requests", actor=M.actor("executive-secretary"), **{"from": "10", "to": "10"})
    assert {(r["symbol"], r["number"]) for r in open_rows} >= {("X/15", "3"), ("X/15", "3 (a)")}
    assert ("X/15", "3 (b)") not in {(r["symbol"], r["number"]) for r in open_rows}  # elapsed: COP-11 has passed
    assert all(r["symbol"] == "X/15" for r in open_rows)
    assert run("open-requests", actor=M.actor("executive-secretary"), **{"from": "16"}) == []
    replaced = run("replaced-by", decision=M.decision("II/3"))
    assert {(r["kind"], r["bySymbol"]) for r in replaced} == {("retires", "X/15")}
    assert {r["reason"] for r in replaced} == {"retired by decision X/15 para 2"}
    chain = run("topic-chain", article=BASE + "instrument/cbd/article/18")
    symbols = [r["symbol"] for r in chain]
    assert symbols[0] == "I/3" and "X/15" in symbols and "15/16" in symbols
    assert next(r for r in chain if r["symbol"] == "II/3")["status"] == "Retired"


@pytest.mark.parametrize("value", hostile_strings())
def test_named_tracking_queries_refuse_hostile_parameters(client, value):
    before = snapshot(client.hub.store)
    for name, params in (("open-requests", {"actor": value}), ("open-requests", {"actor": M.actor("x"), "from": value}),
                         ("replaced-by", {"decision": value}), ("topic-chain", {"article": value})):
        r = client.get(f"/api/queries/{name}", params=params)
        assert r.status_code in (400, 422) or (r.status_code == 200 and r.json()["rows"] == []), (name, r.text)
    assert snapshot(client.hub.store) == before


def test_deriving_again_over_an_unchanged_store_writes_nothing(bundled_store, settings):
    load_text(bundled_store, X15, "X/15")
    first = refresh(bundled_store, settings)[1]
    assert first.status == "loaded" and first.triples > 0
    again = refresh(bundled_store, settings)[1]
    assert again.status == "unchanged"
    # a change that moves a status: only then is the graph replaced
    load_text(bundled_store, X15.replace("2. Decides to retire decisions II/3 and III/4;\n", ""), "X/15")
    changed = refresh(bundled_store, settings)[1]
    assert changed.status == "replaced" and changed.removed > 0
