"""Regions, agencies, people, roles and machine clients (Art 1-5, 30-31)."""
