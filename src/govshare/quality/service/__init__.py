"""Quality use cases. The only code that writes quality tables; every change records its event.

Functions that change something take the session and ``by``, the acting :class:`Principal`
(``core.auth.OPERATOR`` on the command line and in the demo loader). Services flush, never commit,
except :func:`reconciliations.execute`, which runs a queued reconciliation in its own transactions
around the slow comparison (so no database lock is held while DuckDB works).
"""

from govshare.quality.service import checks, duplicates, elements, objections, reconciliations, updates, verification

__all__ = ["checks", "duplicates", "elements", "objections", "reconciliations", "updates", "verification"]
