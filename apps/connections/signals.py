"""Signals other apps subscribe to (they import us; we never import them)."""

from django.dispatch import Signal

# A merchant's Evotor connection has a fresh, usable cloud token (installed, linked or pasted).
# Sent after the transaction commits. Kwargs: connection (EvotorConnection).
evotor_connected = Signal()

# The daily prune (prune_logs, connections.prune_old_logs) is deleting old records: apps above
# us prune theirs. Kwargs: now (aware datetime). A receiver returns {"what was deleted": count}.
pruning = Signal()
