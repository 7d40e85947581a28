"""Hosting backends (no business logic): ``ray_serve`` runs the style engines as Ray Serve replicas."""
