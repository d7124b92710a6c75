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
