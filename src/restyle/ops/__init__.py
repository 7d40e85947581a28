"""Operations: Prometheus metrics, health and readiness, structured logs, graceful drain on SIGTERM.

Nothing here knows the Tencent wire format; ``api/app.py`` calls into these modules.
"""
