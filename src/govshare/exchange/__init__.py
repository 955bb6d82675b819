"""Exchange (Art 14-15): provider interfaces, hosted datasets, off-platform filings."""
