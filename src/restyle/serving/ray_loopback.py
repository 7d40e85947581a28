"""The one Ray internal restyle touches, isolated here behind an exact Ray version check.

Ray Serve has no option for the address of a replica's inter-deployment gRPC server:
``Replica._on_initialized`` calls ``add_port_to_grpc_server(self._server, "[::]:0")`` (all interfaces)
whatever the node address. On a private loopback cluster (``ray_address=local``) restyle rebinds that
call to 127.0.0.1, for the pinned Ray only (constraints-ray.txt); tests/scale/test_ray.py fails when Ray
or that call changes.
"""

from __future__ import annotations

from typing import Any

RAY_PATCHED = "2.60.0"
PATCHED_CALL = 'add_port_to_grpc_server(self._server, "[::]:0")'


def check_loopback_patch() -> None:
    """Stop startup with a clear message when the installed Ray is not the one the patch was made for."""
    import ray

    if ray.__version__ != RAY_PATCHED:
        msg = (
            f"ray_address=local keeps Ray Serve replicas on loopback by rebinding an internal of Ray "
            f"{RAY_PATCHED}, but Ray {ray.__version__} is installed: install the pinned Ray "
            f"(pip install -c constraints-ray.txt 'ray[serve]'), or join a cluster (ray_address=auto)"
        )
        raise RuntimeError(msg)


def bind_replica_grpc_to_loopback() -> None:
    """In the replica, before Serve starts its inter-deployment gRPC server: bind it to 127.0.0.1."""
    check_loopback_patch()
    from ray.serve._private import replica

    original: Any = replica.add_port_to_grpc_server  # type: ignore[attr-defined]
    if getattr(original, "_restyle_loopback", False):
        return

    def add_port(server: Any, address: str) -> Any:
        if address.startswith("[::]:"):
            address = "127.0.0.1:" + address.rsplit(":", 1)[1]
        return original(server, address)

    add_port._restyle_loopback = True  # type: ignore[attr-defined]
    replica.add_port_to_grpc_server = add_port  # type: ignore[attr-defined]
