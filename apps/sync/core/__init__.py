"""The pure sync core: filters → transform → differ → plan. No Django, no HTTP, no clock.

Everything comes in as plain values (``types.SyncContext``, time passed in) and a
``types.SyncPlan`` comes out; ``apps/sync/executor.py`` applies it. See docs/architecture.md.
"""
