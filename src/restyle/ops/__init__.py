"""Operations: Prometheus metrics, health and readiness, structured logs, graceful drain on SIGTERM.

Nothing here knows the Tencent wire format; ``api/`` calls into these modules. ``routes.py`` serves
/healthz, /readyz and /metrics; ``sweeper.py`` removes expired results and old job records.
"""
