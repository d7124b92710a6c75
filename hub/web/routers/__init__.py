"""One router per concern: pages, sparql (protocol, Graph Store, dumps), editing, tagging, accounts, admin, skosmos."""
