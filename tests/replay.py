"""A replay server for the harvester's tests and benchmark: it answers on 127.0.0.1 in the documented
shapes of the CBD APIs, InforMEA's OData service and a Bioland site (``../shared/data/cbd-api/CBD-API.md``),
from fixtures the tests write, and injects faults on request.

Faults (``server.fault(path_prefix, kind, times)``): ``500``, ``429`` (with ``Retry-After: 1``), ``timeout``
(answers after the client's timeout), ``malformed`` (not JSON), ``truncated`` (JSON cut in the middle).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


def decision_tree(session: int, number: int, paragraphs: int = 3, title: str | None = None, body: str = "COP") -> dict:
    """A decision of the v2021 API with a preamble, one section and ``paragraphs`` numbered paragraphs,
    the first with two items and a sub-item, in English and French."""
    code = f"CBD/{body}/{session:02d}/{number:02d}"
    did = f"d{session:03d}{number:04d}"
    nodes: list[dict] = [
        {"_id": did + "p1", "decisionId": did, "parentId": None, "html": {"en": "<p><em>The Conference of the Parties</em>,</p>"}},
        {"_id": did + "p2", "decisionId": did, "parentId": None,
         "html": {"en": f"<p><em>Recalling</em> decision {max(session - 1, 1)}/{number},</p>"}},
    ]
    section = {"_id": did + "sA", "decisionId": did, "parentId": None, "code": f"{code}/A", "section": "A",
               "html": {"en": "<p>A. Matters of the section</p>"}, "nodes": []}
    for p in range(1, paragraphs + 1):
        para = {"_id": f"{did}n{p}", "decisionId": did, "parentId": section["_id"], "code": f"{code}/A{p:02d}", "section": "A",
                "paragraph": p, "type": "operational" if p % 3 else "informational", "statuses": ["active"],
                "actors": ["parties"] if p % 2 else ["executive-secretary", "SBSTTA"],
                "subjects": ["CBD-SUBJECT-CHM"] if p == 1 else [], "gbfTargets": ["GBF-TARGET-21"] if p == 2 else [],
                "decisions": [f"CBD/COP/{max(session - 1, 1):02d}/{number:02d}"] if p == 1 else [],
                "documents": [f"CBD/SBI/{session}/{p}"] if p == 3 else [], "notifications": ["2024-001"] if p == 4 else [],
                "html": {"en": f"<p>{p}. <em>Requests</em> the Executive Secretary to do thing {p} of decision {number},</p>",
                         "fr": f"<p>{p}. <em>Prie</em> la Secrétaire exécutive de faire la chose {p},</p>"}, "nodes": []}
        if p == 1:
            item = {"_id": f"{did}n{p}i1", "decisionId": did, "parentId": para["_id"], "code": f"{code}/A01.01", "section": "A",
                    "paragraph": 1, "item": 1, "type": "operational", "statuses": ["active"], "actors": ["parties"],
                    "html": {"en": "<p>(a) to share information;</p>"}, "nodes": [
                        {"_id": f"{did}n{p}i1s1", "decisionId": did, "parentId": f"{did}n{p}i1", "code": f"{code}/A01.01.01",
                         "section": "A", "paragraph": 1, "item": 1, "subitem": 1, "type": "operational",
                         "html": {"en": "<p>(i) through the clearing-house mechanism;</p>"}}]}
            para["nodes"].append(item)
        section["nodes"].append(para)
    nodes.append(section)
    return {"_id": did, "code": code, "symbol": f"CBD/COP/DEC/{session}/{number}", "treaty": "XXVII8", "body": body,
            "session": session, "decision": number, "meeting": f"COP-{session}",
            "title": {"en": title or f"Decision {number} of meeting {session}", "fr": f"Décision {number} de la réunion {session}"},
            "subjects": ["CBD-SUBJECT-CHM"], "gbfTargets": ["GBF-TARGET-21"], "nodes": nodes}


def _etag(tree: dict) -> str:
    return '"' + hashlib.sha256(json.dumps(tree, sort_keys=True).encode()).hexdigest()[:20] + '"'


class Encoded(bytes):
    """An answer's body already encoded (a frozen replay's)."""


class Replay:
    def __init__(self) -> None:
        self.decisions: dict[str, dict] = {}
        self.index: list[dict] = []
        self.records: dict[str, dict] = {}
        self.terms: dict[str, list[dict]] = {}
        self.countries: list[dict] = []
        self.odata: dict[str, list[dict]] = {}
        self.odata_v1 = False
        self.bioland: dict[str, list[dict]] = {}
        self.faults: list[list] = []  # [path prefix, kind, times left]
        self.requests: list[str] = []
        self.timeout_seconds = 3.0
        self.frozen: dict[str, tuple[bytes, str]] | None = None  # see freeze()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "Replay":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fault(self, prefix: str, kind: str, times: int = 1) -> None:
        with self._lock:
            self.faults.append([prefix, kind, times])

    def add_decision(self, tree: dict) -> None:
        self.decisions[tree["code"]] = tree

    def freeze(self) -> "Replay":
        """Encode each decision tree and its ETag once, as a real source's server caches them: for a bench
        whose replay server shares the harvester's cores. The trees must not change afterwards."""
        self.frozen = {code: (json.dumps(tree, ensure_ascii=False).encode(), _etag(tree)) for code, tree in self.decisions.items()}
        return self

    def _take_fault(self, path: str) -> str | None:
        with self._lock:
            for f in self.faults:
                if path.startswith(f[0]) and f[2] > 0:
                    f[2] -= 1
                    return f[1]
        return None

    # -- answers ---------------------------------------------------------------------------
    def answer(self, method: str, raw_path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, Any, dict]:
        path = raw_path
        one = {k: v[-1] for k, v in query.items()}
        if path == "/api/v2021/decisions":
            q = json.loads(one.get("q", "{}"))
            items = [d for d in self.decisions.values() if all(d.get(k) == v for k, v in q.items() if isinstance(v, (str, int)))]
            items.sort(key=lambda d: d["code"])
            sk, lim = int(one.get("sk", 0)), int(one.get("l", 0))
            items = items[sk: sk + lim] if lim else items[sk:]
            if one.get("c") == "1":
                return 200, {"count": len(items)}, {}
            return 200, [{k: v for k, v in d.items() if k != "nodes"} for d in items], {}
        m = re.fullmatch(r"/api/v2021/decisions/([^/]+)/tree", path)
        if m:
            code = unquote(m.group(1))
            if code not in self.decisions:
                return 404, {"statusCode": 404, "code": "notFound", "message": f"decision {code} not found"}, {}
            if self.frozen is not None and code in self.frozen:
                body, etag = self.frozen[code]
                body = Encoded(body)
            else:
                body = self.decisions[code]
                etag = _etag(body)
            if headers.get("if-none-match") == etag:
                return 304, None, {"ETag": etag}
            return 200, body, {"ETag": etag}
        if path in ("/api/v2013/index/select", "/api/v2013/index"):
            return 200, self._solr(query), {}
        m = re.fullmatch(r"/api/v2013/documents/([^/]+)/info", path)
        if m:
            uid = unquote(m.group(1))
            if uid not in self.records:
                return 404, {"statusCode": 404, "code": "notFound", "message": "document not found"}, {}
            return 200, self.records[uid], {}
        m = re.fullmatch(r"/api/v2013/thesaurus/domains/([^/]+)/terms", path)
        if m:
            domain = unquote(m.group(1))
            if domain not in self.terms:
                return 404, {"statusCode": 404, "code": "notFound", "message": "domain not found"}, {}
            return 200, self.terms[domain], {}
        if path == "/api/v2013/countries":
            return 200, self.countries, {}
        m = re.fullmatch(r"/informea\.svc/(\w+)", path)
        if m:
            entities = self.odata.get(m.group(1))
            if entities is None:
                return 404, {"statusCode": 404}, {}
            top = min(int(one.get("$top", 100)), 100)  # the silent cap
            skip = int(one.get("$skip", 0))
            page = entities[skip: skip + top]
            if not page:
                return 404, {"error": {"code": "", "message": {"lang": "en-US", "value": "No record found"}}}, {}
            return 200, ({"d": page} if self.odata_v1 else {"d": {"results": page}}), {}
        m = re.fullmatch(r"/(\w\w)/jsonapi/node/content", path)
        if m:
            nodes = self.bioland.get(m.group(1), [])
            limit, offset = int(one.get("page[limit]", 50)), int(one.get("page[offset]", 0))
            page = nodes[offset: offset + limit]
            doc: dict[str, Any] = {"jsonapi": {"version": "1.0"}, "data": page, "meta": {"count": len(nodes)},
                                   "links": {"self": {"href": self.url + raw_path}}}
            if offset + limit < len(nodes):
                doc["links"]["next"] = {"href": f"{self.url}/{m.group(1)}/jsonapi/node/content?jsonapi_include=1"
                                                f"&page%5Blimit%5D={limit}&page%5Boffset%5D={offset + limit}"}
            return 200, doc, {}
        return 404, {"statusCode": 404, "code": "notFound", "message": f"no route {path}"}, {}

    def _solr(self, query: dict[str, list[str]]) -> dict:
        filters = [*query.get("q", ["*:*"]), *query.get("fq", [])]
        docs = list(self.index)
        for f in filters:
            f = f.strip()
            m = re.fullmatch(r"schema_s:\((.*)\)", f)
            if m:
                wanted = {s.replace("\\-", "-").strip() for s in m.group(1).split(" OR ")}
                docs = [d for d in docs if d.get("schema_s") in wanted]
            m = re.fullmatch(r"realm_ss:(\w+)", f)
            if m:
                docs = [d for d in docs if m.group(1) in d.get("realm_ss", [])]
            m = re.fullmatch(r"updatedDate_dt:\[(\S+) TO \*\]", f)
            if m:
                docs = [d for d in docs if d.get("updatedDate_dt", "") >= m.group(1)]
            if f == "NOT version_s:*":
                docs = [d for d in docs if "version_s" not in d]
        docs.sort(key=lambda d: (d.get("updatedDate_dt", ""), d.get("id", "")))
        start, rows = int(query.get("start", ["0"])[-1]), int(query.get("rows", ["10"])[-1])
        page = docs[start: start + rows]
        fl = query.get("fl", [None])[-1]
        if fl:
            keep = set(fl.split(","))
            page = [{k: v for k, v in d.items() if k in keep} for d in page]
        return {"responseHeader": {"status": 0, "QTime": 1}, "response": {"numFound": len(docs), "start": start, "docs": page}}

    def _handler(self):
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall each

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                split = urlsplit(self.path)
                replay.requests.append(self.path)
                fault = replay._take_fault(split.path)
                if fault == "timeout":
                    time.sleep(replay.timeout_seconds)
                if fault == "redirect":  # moved: the same path, marked, so that the next answer is the record
                    return self._send(302, b"", {"Location": split.path + "?moved=1"})
                if fault in ("500", "429"):
                    extra = {"Retry-After": "1"} if fault == "429" else {}
                    return self._send(int(fault), json.dumps({"statusCode": int(fault), "message": "injected"}).encode(), extra)
                status, body, headers = replay.answer("GET", split.path, parse_qs(split.query, keep_blank_values=True),
                                                      {k.lower(): v for k, v in self.headers.items()})
                if body is None:
                    data = b""
                elif isinstance(body, Encoded):
                    data = bytes(body)
                else:
                    data = json.dumps(copy.deepcopy(body), ensure_ascii=False).encode()
                if fault == "malformed":
                    data = b"<html>Service Unavailable</html>"
                elif fault == "truncated":
                    data = data[: max(1, len(data) // 2)]
                elif fault == "cut":  # the connection drops mid-body: fewer bytes than the Content-Length said
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._send(status, data, headers)

            def _send(self, status: int, data: bytes, headers: dict) -> None:
                try:
                    self.send_response(status)
                    if status != 304:
                        self.send_header("Content-Type", "application/json; charset=utf-8")
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data) if status != 304 else 0))
                    self.end_headers()
                    if status != 304:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
