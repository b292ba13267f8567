"""The hand-written async source of truth. ``stack_auth/_sync`` is generated from it by ``scripts/gen_sync.py``."""
