from tests.scale.backends import redis_server

__all__ = ["redis_server"]
