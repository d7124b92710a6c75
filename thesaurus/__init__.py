"""Vocabulary upkeep: import (:mod:`thesaurus.importers`), quality checks (:mod:`thesaurus.quality`),
checked editing with drafts, publication and history (:mod:`thesaurus.editing`), spreadsheets
(:mod:`thesaurus.spreadsheet`)."""
