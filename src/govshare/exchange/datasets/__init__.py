"""Hosted datasets: reading uploads (``readers``), validating and storing them as Parquet
(``validate``), and their place on disk (``storage``). Querying them is ``exchange.query``."""

from govshare.exchange.datasets.validate import SourceFile, StagedVersion, stage

__all__ = ["SourceFile", "StagedVersion", "stage"]
