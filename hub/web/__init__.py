"""The hub's web layer: the app (:mod:`hub.web.app`), request dependencies (:mod:`hub.web.deps`),
the one render (:mod:`hub.web.render`), the error model (:mod:`hub.web.errors`), middleware,
``routers/`` (one per concern), ``views/`` (what pages show), templates, static files, locales."""
