"""The ``chmkg`` command line (:mod:`hub.cli.main`); it never imports the web app."""

from hub.cli.main import app

__all__ = ["app"]
