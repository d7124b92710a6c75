"""SHACL shapes (one family per .ttl file) and the validation wrapper.

Validation runs the shapes compiled to SPARQL inside a store (fast, scoped to what changed);
pyshacl stays the reference implementation that the tests compare reports against.
"""

from shapes.report import Report, Violation
from shapes.validate import shapes_graph_turtle, validate_store, validate_with_pyshacl

__all__ = ["Report", "Violation", "shapes_graph_turtle", "validate_store", "validate_with_pyshacl"]
