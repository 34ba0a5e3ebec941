"""sgdbench across torch releases: the conformance matrix and the cost of an SGD step.

``nox -s releases`` (``python -m sgdbench releases``) installs each torch release into its own
environment and checks torch's own SGD paths and dropout there (:mod:`.session`, :mod:`.probe`);
:mod:`.matrix` turns the records into tables and finds the cells that differ from their
neighbour, :mod:`.render` writes ``results/RELEASES.md`` and refuses to while one of them has
no explanation in :mod:`.explanations`. :mod:`.plan` names the releases.
"""
