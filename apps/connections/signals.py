"""Signals other apps subscribe to (they import us; we never import them)."""

from django.dispatch import Signal

# A merchant's Evotor connection has a fresh, usable cloud token (installed, linked or pasted).
# Sent after the transaction commits. Kwargs: connection (EvotorConnection).
evotor_connected = Signal()
