"""Generators for tests, benches and tools: synthetic line feeds (``synth``), a day on a bad line
with its ground truth (``badline``) and the scoring of a segmenter run against it (``scoring``).

Nothing in callrec's own code imports this package (tests/test_imports.py puts it on the top floor):
the recorder never ships behaviour that only a test needs. Import the modules by name, e.g.
``from callrec.testing.synth import FeedBuilder``.
"""
