# GENERATED from stack_auth/_async/__init__.py by scripts/gen_sync.py: edit the source, not this file.
"""The hand-written async source of truth. ``stack_auth/_sync`` is generated from it by ``scripts/gen_sync.py``."""
