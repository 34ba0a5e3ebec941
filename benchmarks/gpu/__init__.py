"""One command for a GPU (``nox -s gpu``, or ``python -m benchmarks.gpu``): the plan as data
(:mod:`.plan`), its runner and dry mode (:mod:`.run`), and what it writes (:mod:`.summary`)."""
