"""Converters from other model formats (run by operators, never at request time)."""
