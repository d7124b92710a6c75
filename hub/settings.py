"""The one settings module: environment ``CHMKG_*`` > config file > defaults.

Read at the entry points (CLI, app factory) only; domain functions take explicit values.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ontology.errors import ChmError

HERE = Path(__file__).resolve().parent.parent
SETTINGS_ENV = "CHMKG_SETTINGS_JSON"
REMOTE_ENGINES = ("sparql", "virtuoso")  # remote_engine: a SPARQL 1.1 store, or Virtuoso's dialect  # how `chmkg serve` hands its settings to the app uvicorn imports


@dataclass(frozen=True)
class Settings:
    base: str = "http://127.0.0.1:8000/"
    store_path: str = "var/store"
    remote_query_url: str = ""
    remote_update_url: str = ""
    remote_engine: str = "sparql"  # "sparql" (oxigraph serve, Fuseki … with SPARQL 1.1) or "virtuoso" (its dialect; docs/deploy.md)
    remote_user: str = ""  # for the remote store's writes: digest on Virtuoso's /sparql-auth, else basic
    remote_password: str = ""
    remote_passthrough: bool = True  # over a remote store, plain reads stream from it unparsed (README, "Remote SPARQL store")
    shared_data: str = str(HERE.parent / "shared" / "data")
    host: str = "127.0.0.1"
    port: int = 8000
    # SPARQL service limits
    query_timeout: float = 10.0  # seconds; a query past it is stopped and answered 503
    row_cap: int = 10000  # rows (or triples) for anonymous clients; stated in the response
    max_query_length: int = 100_000  # characters of query or update text
    max_upload_bytes: int = 50_000_000  # Graph Store bodies
    query_workers: int = 8  # queries evaluated at once
    query_queue: int = 64  # queries waiting for a worker; past it 503 with Retry-After
    inline_query_ms: float = 2.0  # a plain read seen to take less on this data runs on the event loop next time; 0: never
    cache_entries: int = 2048  # cached results (every write empties the cache)
    cors_origins: str = "*"  # comma-separated origins allowed to call the API from a browser
    service_allow: str = ""  # comma-separated IRI prefixes SERVICE may call; empty: SERVICE is off
    tokens_file: str = ""  # default: tokens.json in the store's state folder (<store_path>-hub/)
    dumps_dir: str = ""  # default: dumps/ in the store's state folder
    users_file: str = ""  # default: users.json in the store's state folder (accounts, Argon2 hashes)
    secret_file: str = ""  # default: secret.key in the store's state folder (signs session cookies)
    session_max_age: int = 8 * 3600  # seconds a browser session lasts
    max_document_bytes: int = 10_000_000  # submitted documents (tagging)
    warm_up_seconds: float = 120.0  # the start-up waits this long at most for the tagger's pipelines
    tag_schemes: str = ""  # comma-separated vocabularies the tagger uses (informea, ecolex, gemet); empty: all imported
    audit_file: str = ""  # default: audit.log in the store's state folder (one JSON line per write)
    rate_limit: float = 100.0  # requests per second per client (API token, else address); 0: off
    rate_burst: int = 200  # requests a client may send at once before the rate applies
    harvest_schedule: str = ""  # scheduled harvests in the served hub: "cbd-decisions=86400,cbd-index=3600" (seconds); empty: none
    harvest_urls: str = ""  # per-source base URL: "cbd-decisions=https://api.cbd.int,bioland=https://xx.example.org"
    harvest_options: str = ""  # per-source options: "bioland:country=XX,bioland:locales=en;fr"
    harvest_rate: float = 5.0  # requests per second per harvest (0: no limit)
    admin_email: str = "chm-hub-admin@example.org"
    widget_origins: str = "*"  # who may frame /widget/… (CSP frame-ancestors): "https://chm.example.org https://…", "*" or "'none'"  # the contact OAI-PMH Identify gives harvesters
    sync_interval: float = -1.0  # seconds between looks for writes by other hub processes; -1: 1 s over a remote store, off embedded
    workers: int = 1  # chmkg serve: reader processes over an embedded store (beside one writer); 1: one process does all
    role: str = "single"  # set by chmkg serve --workers: "writer" (internal port) or "reader" (public port)
    writer_url: str = ""  # a reader's writer, e.g. http://127.0.0.1:41234 (set by chmkg serve)

    @property
    def meta_graph(self) -> str:
        return self.base.rstrip("/") + "/graph/meta"

    @property
    def state_path(self) -> Path:
        """The store's own folder for the hub's files (tokens, accounts, key, audit log, dumps,
        backups): ``<store_path>-hub`` beside the store, so two stores side by side share nothing."""
        store = Path(self.store_path)
        return store.parent / (store.name + "-hub")

    @property
    def tokens_path(self) -> Path:
        return self._beside(self.tokens_file, "tokens.json")

    @property
    def dumps_path(self) -> Path:
        return self._beside(self.dumps_dir, "dumps")

    def _beside(self, value: str, name: str) -> Path:
        return Path(value) if value else self.state_path / name

    @property
    def users_path(self) -> Path:
        return self._beside(self.users_file, "users.json")

    @property
    def secret_path(self) -> Path:
        return self._beside(self.secret_file, "secret.key")

    @property
    def writer_lock_path(self) -> Path:
        """The lock file that serialises writes among the processes sharing this state folder."""
        return self.state_path / "writer.lock"

    @property
    def backups_path(self) -> Path:
        return self.state_path / "backups"

    @property
    def audit_path(self) -> Path:
        return self._beside(self.audit_file, "audit.log")

    @property
    def harvest_state_path(self) -> Path:
        return self.state_path / "harvest.sqlite"

    @property
    def build_cache_path(self) -> Path:
        """What the build's slow readers made, by the content of their input files (``hub.build.cached_reader``)."""
        return self.state_path / "build-cache"

    @property
    def generation_path(self) -> Path:
        """The writer's generation (a counter it moves before acknowledging a write); readers follow it."""
        return self.state_path / "generation"

    def harvest_schedule_map(self) -> dict[str, float]:
        """``harvest_schedule`` as {source: seconds}."""
        out = {}
        for entry in self._list(self.harvest_schedule):
            name, _, seconds = entry.partition("=")
            out[name.strip()] = float(seconds)
        return out

    def harvest_url(self, name: str) -> str | None:
        for entry in self._list(self.harvest_urls):
            key, _, url = entry.partition("=")
            if key.strip() == name:
                return url.strip()
        return None

    def harvest_option_map(self, name: str) -> dict[str, str]:
        out = {}
        for entry in self._list(self.harvest_options):
            key, _, value = entry.partition("=")
            source, _, option = key.partition(":")
            if source.strip() == name and option:
                out[option.strip()] = value.strip().replace(";", ",")
        return out

    @property
    def tag_scheme_list(self) -> list[str]:
        return self._list(self.tag_schemes)

    @property
    def endpoint(self) -> str:
        return self.base + "sparql"

    @staticmethod
    def _list(value: str) -> list[str]:
        return [v.strip() for v in value.split(",") if v.strip()]

    @property
    def cors_list(self) -> list[str]:
        return self._list(self.cors_origins)

    @property
    def service_allow_list(self) -> list[str]:
        return self._list(self.service_allow)

    def graph(self, name: str) -> str:
        from ontology.iris import Minter

        return Minter(self.base).graph(name)


def load_settings(config: str | Path | None = None, **overrides: object) -> Settings:
    """Defaults, then the TOML config file (``CHMKG_CONFIG`` or ``chmkg.toml``), then ``CHMKG_*``."""
    values: dict[str, object] = {}
    path = Path(config or os.environ.get("CHMKG_CONFIG", "chmkg.toml"))
    if path.is_file():
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as e:
            raise ChmError(f"{path}: invalid TOML ({e})") from None
    names = {f.name: f.type for f in fields(Settings)}
    for name in names:
        env = os.environ.get("CHMKG_" + name.upper())
        if env is not None:
            values[name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(values) - set(names)
    if unknown:
        raise ChmError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    for name, kind in names.items():
        if name in values and kind in ("bool", bool) and isinstance(values[name], str):
            flag = str(values[name]).strip().lower()
            if flag not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise ChmError(f"setting {name}: {values[name]!r} is not true or false")
            values[name] = flag in ("1", "true", "yes", "on")
        if name in values and kind in ("int", "float", int, float):
            try:
                values[name] = (int if kind in ("int", int) else float)(values[name])  # type: ignore[arg-type]
            except ValueError:
                raise ChmError(f"setting {name}: {values[name]!r} is not a number") from None
    base = str(values.get("base", Settings.base))
    values["base"] = base if base.endswith("/") else base + "/"
    return Settings(**values)  # type: ignore[arg-type]


def open_configured_store(settings: Settings):
    """The store the settings name, with interrupted loads recovered."""
    from sparql.store import open_store

    if settings.remote_engine not in REMOTE_ENGINES:
        raise ChmError(f"setting remote_engine: {settings.remote_engine!r} is not one of {', '.join(REMOTE_ENGINES)}")
    if settings.remote_query_url and settings.remote_engine == "virtuoso":
        from sparql.virtuoso import VirtuosoStore

        store = VirtuosoStore(settings.remote_query_url, settings.remote_update_url or None, user=settings.remote_user,
                              password=settings.remote_password, meta_graph=settings.meta_graph)
    else:
        store = open_store(settings.store_path, settings.remote_query_url or None, settings.remote_update_url or None,
                           user=settings.remote_user, password=settings.remote_password)
    store.recover(settings.meta_graph)
    return store


def settings_json(settings: Settings) -> str:
    return json.dumps(asdict(settings))


def settings_from_json(text: str) -> Settings:
    try:
        values = json.loads(text)
        return Settings(**values)
    except (ValueError, TypeError) as e:
        raise ChmError(f"{SETTINGS_ENV} does not hold the hub's settings: {e}") from None
