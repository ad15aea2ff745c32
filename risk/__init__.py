"""Risk: ManualModeFallback (states, triggers, the order gate, suggestions), GreeksMonitor and alerts
(no LEAN imports here)."""
