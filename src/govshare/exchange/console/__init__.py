"""Portal pages of the exchange domain's management side (``console.pages`` wires them): the
subject lookup (``subjects``), provider interfaces and dataset versions (``provider``) and
off-platform filings (``filings``). Templates under ``exchange/templates``."""
