"""Supervision: tamper-evident transparency log primitives."""
