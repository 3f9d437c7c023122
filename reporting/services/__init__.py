"""Writes to reporting data (keyword-only, atomic)."""
