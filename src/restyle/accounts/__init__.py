"""Accounts, API keys and job records in SQLite (the embedded default store).

Secrets: TC3 and v1 signatures are HMACs keyed by the SecretKey itself, so the server must be able to
recover it; a hash cannot be stored. restyle stores each SecretKey encrypted with AES-256-GCM under a
master key kept outside the database (``<data_dir>/master.key``, mode 0600, or ``RESTYLE_MASTER_KEY``),
so a copy of ``restyle.db`` alone does not reveal any secret.
"""
