"""One small exception family with stable short codes.

The hub maps these once to HTTP (problem+json) and the CLI once to ``Error [code]: …`` with exit 1.
"""

from __future__ import annotations


class ChmError(Exception):
    """Base of every error the hub reports to a person."""

    code = "E000"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SourceError(ChmError):
    """A source file is missing, unreadable or of an unknown kind."""

    code = "E101"
    http_status = 400


class RdfSyntaxError(ChmError):
    """RDF that does not parse; the message names line and column."""

    code = "E102"
    http_status = 400


class UnknownFormatError(ChmError):
    """An RDF format the hub cannot read or write."""

    code = "E103"
    http_status = 415


class UnknownSchemaError(ChmError):
    """A CHM JSON record of a schema the hub has no mapping for."""

    code = "E104"
    http_status = 422


class ShapeViolation(ChmError):
    """Data that fails the SHACL shapes; carries the report."""

    code = "E201"
    http_status = 422

    def __init__(self, message: str, report: object) -> None:
        super().__init__(message)
        self.report = report


class StoreUnavailable(ChmError):
    """The store (a remote SPARQL endpoint) did not answer."""

    code = "E301"
    http_status = 503


class QueryError(ChmError):
    """A SPARQL query or update that the store refused."""

    code = "E302"
    http_status = 400


class UnknownQueryError(ChmError):
    """A named query that does not exist, or a bad parameter for it."""

    code = "E303"
    http_status = 404


class SymbolError(ChmError):
    """A decision symbol outside the CBD symbol grammar."""

    code = "E401"
    http_status = 400


class InvalidIri(ChmError):
    """A value that should be an IRI but breaks the IRI grammar (spaces, ``<>"{}|^`\\``, no scheme)."""

    code = "E313"
    http_status = 400


class BadParameter(ChmError):
    """A named query's parameter that is missing or of the wrong type."""

    code = "E314"
    http_status = 400


class BadRequest(ChmError):
    """A request the hub cannot read: a missing parameter, a body of the wrong shape."""

    code = "E306"
    http_status = 400


class TooLarge(ChmError):
    """A request body, query or upload past its limit."""

    code = "E307"
    http_status = 413
