# GENERATED from stack_auth/_async/resources/__init__.py by scripts/gen_sync.py: edit the source, not this file.
"""One module per API area: each method names its path, its parameters and its model, nothing more."""
