"""The thesaurus editor in a real browser (Playwright + Debian's chromium): an editor logs in, edits
a concept, sees a refusal (a cycle), saves a draft; a publisher publishes it; the history shows the
version; the change is reverted."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from conftest import start_live_hub
from test_browser import CHROMIUM, browser, page  # noqa: F401 - shared fixtures
from test_editing import TTL, V

from writes.ingest import ParsedSource, checksum, ingest
from ontology import SKOS

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it with apt-get)")]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    hub, stop = start_live_hub(tmp_path_factory.mktemp("editor"), "embedded", load_bundled=False)
    nt = b"".join(str(t).encode() + b" .\n" for t in ox.parse(TTL.encode(), ox.RdfFormat.TURTLE))
    g = hub.settings.graph("thesaurus-test")
    ingest(hub.hub.store, ParsedSource("thesaurus-test", "test", "inline", checksum(nt), nt, "test"), g, hub.settings.meta_graph)
    hub.hub.accounts.create("ines", "editor", "editor password 1")
    hub.hub.accounts.create("paulo", "publisher", "publisher password 1")
    yield hub
    stop()


def _login(page, live, name, password, next_path):  # noqa: F811
    page.goto(live.url + "/login?next=" + next_path)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_edit_refuse_publish_history_revert(live, page, browser):  # noqa: F811
    store = live.hub.store
    _login(page, live, "ines", "editor password 1", f"/thesaurus-edit?concept={V}forest")
    assert page.locator("h1").inner_text() == "Edit concept"
    # a cycle is refused, and the editor sees why
    page.get_by_label("Broader concepts (IRIs, one per line)").fill(V + "rainforest")
    page.get_by_role("button", name="Save as draft").click()
    assert "Cycles in the broader hierarchy" in page.locator("#edit-problems").inner_text()
    # a good change becomes a draft
    page.get_by_label("Broader concepts (IRIs, one per line)").fill("")
    page.get_by_label("Alternative labels (en), one per line").fill("woodland")
    page.get_by_role("button", name="Save as draft").click()
    assert "draft saved" in page.locator("#changes-message").inner_text()
    assert page.get_by_role("button", name="Publish").count() == 0  # editors do not publish
    assert not store.ask(f'ASK {{ <{V}forest> <{SKOS.altLabel}> "woodland"@en }}')

    context = browser.new_context(locale="en-GB")
    pub = context.new_page()
    _login(pub, live, "paulo", "publisher password 1", "/thesaurus-changes")
    pub.get_by_role("button", name="Publish").click()
    assert "publish: done" in pub.locator("#changes-message").inner_text()
    assert store.ask(f'ASK {{ <{V}forest> <{SKOS.altLabel}> "woodland"@en }}')

    pub.goto(live.url + f"/thesaurus-history?concept={V}forest")
    assert "version 1" in pub.locator("ol.history").inner_text()
    pub.get_by_role("button", name="Revert this change").click()
    pub.get_by_role("button", name="Publish").click()
    assert not store.ask(f'ASK {{ <{V}forest> <{SKOS.altLabel}> "woodland"@en }}')
    pub.goto(live.url + f"/thesaurus-history?concept={V}forest")
    assert "version 2" in pub.locator("ol.history").inner_text() and "reverts" in pub.locator("ol.history").inner_text()
    context.close()
    assert [e for e in page.errors if "status of 422" not in e] == []  # the refused edit answered 422, as it should


@pytest.fixture(scope="module")
def live_decisions(tmp_path_factory):
    hub, stop = start_live_hub(tmp_path_factory.mktemp("tracking-editor"), "embedded")
    hub.hub.accounts.create("ines", "editor", "editor password 1")
    hub.hub.accounts.create("paulo", "publisher", "publisher password 1")
    yield hub
    stop()


def test_an_editor_records_a_status_a_publisher_publishes_it_and_the_page_says_why(live_decisions, page, browser):  # noqa: F811
    live = live_decisions
    _login(page, live, "ines", "editor password 1", "/decision/cop/15/16.html")
    page.select_option("#rs-node", label="9 (f)")
    page.select_option("#rs-status", "implemented")
    page.get_by_label("Note").fill("the work programme was adopted (decision 16/11)")
    page.get_by_role("button", name="Record a status").click()
    assert "draft saved: implemented" in page.locator("#changes-message").inner_text()
    assert page.get_by_role("button", name="Publish").count() == 0  # editors do not publish
    context = browser.new_context(locale="en-GB")
    pub = context.new_page()
    _login(pub, live, "paulo", "publisher password 1", "/tracking/changes")
    pub.get_by_role("button", name="Publish").click()
    assert "publish: done" in pub.locator("#changes-message").inner_text()
    pub.goto(live.url + "/decision/cop/15/16.html")
    badge = pub.locator("ol.tree li", has_text="9 (f)").locator(".status")
    assert badge.inner_text() == "implemented"
    assert "recorded by paulo" in badge.get_attribute("title") and "decision 16/11" in badge.get_attribute("title")
    # reverted (a draft that removes it), published: the derived status is back
    pub.goto(live.url + "/tracking/changes?status=published")
    pub.get_by_role("button", name="Revert").click()
    assert "revert: done" in pub.locator("#changes-message").inner_text()
    pub.goto(live.url + "/tracking/changes?status=draft")
    pub.get_by_role("button", name="Publish").click()
    pub.goto(live.url + "/decision/cop/15/16.html")
    assert pub.locator("ol.tree li", has_text="9 (f)").locator(".status").inner_text() == "elapsed"
    context.close()
    assert page.errors == []
