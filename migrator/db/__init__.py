"""Shared database helpers: addresses (urls)."""
