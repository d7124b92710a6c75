"""thesaurus package."""
