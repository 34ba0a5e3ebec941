"""sgdbench: a textbook chapter on training neural networks, as reference code, checks and
benchmarks. The spec is the chapter (``shared/seed/training-chapter.txt`` in the project)."""

from sgdbench import data, models, reference, training

__version__ = "0.1.0"

__all__ = ["__version__", "data", "models", "reference", "training"]
