"""Core: typed settings, plain market snapshots and order intents shared by every component.

Nothing here imports LEAN: ``main.py`` converts LEAN objects into these plain values once per bar.
"""
