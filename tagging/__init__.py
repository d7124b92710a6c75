"""Document tagging: read a submitted document (:mod:`tagging.documents`), suggest concepts
(:mod:`tagging.tagger`), find and resolve its references to decisions, articles, meetings and
targets (:mod:`tagging.references`), put it into the graph (:mod:`tagging.submission`), let editors
review the suggestions (:mod:`tagging.review`), and score the tagger (:mod:`tagging.evaluation`)."""
