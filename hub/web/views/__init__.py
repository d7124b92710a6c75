"""What the pages show, computed from the store: resource views, search, the lineage picture."""
