"""Data quality: authoritative sources, reconciliation of copies, quality checks (Art 11-12, 15)."""
