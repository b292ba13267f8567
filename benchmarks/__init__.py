"""Benchmarks of the SDK against raw HTTP clients, measured side by side in one run: ``python -m benchmarks``.

``--full`` runs the sizes of the issue (slower), ``--only P1,P3`` a subset, ``--smoke`` tiny sizes (the test suite
runs that so the harness cannot rot), ``--readme`` writes the table into README.md's ``## Benchmarks`` section.
"""
