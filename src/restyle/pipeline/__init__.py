"""The sans-IO core: a validated Job goes through numbered steps (see ``run.py``); I/O only via plugins."""
