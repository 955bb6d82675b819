"""Background work of a serving process: functions run again and again in a worker thread.

``create_app`` lists the platform's background work in one place and starts it with the app's
lifespan (:func:`running`); tests turn it off with the settings each job reads. A job is a plain
function that brings the world up to date and returns; it runs in a thread (it does blocking
database work), every ``interval`` seconds, and a failure is logged and retried at the next round
instead of stopping the server (an unreachable database: one warning when the outage starts and one
when it ends, not a traceback every round).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable

from govshare.core.errors import database_unreachable

log = logging.getLogger("govshare.background")


@dataclasses.dataclass(frozen=True, slots=True)
class Job:
    name: str
    run: Callable[[], object]
    interval: float


async def _loop(job: Job) -> None:
    database_down = False
    while True:
        try:
            await asyncio.to_thread(job.run)
            if database_down:
                log.warning("background job %s resumes: the database is back", job.name)
            database_down = False
        except Exception as exc:  # keep serving; the next round retries
            if not database_unreachable(exc):
                log.exception("background job %s failed", job.name)
            elif not database_down:  # one line per outage, not a traceback every round
                database_down = True
                log.warning("background job %s waits for the database: %s", job.name, type(exc).__name__)
        await asyncio.sleep(job.interval)


@contextlib.asynccontextmanager
async def running(jobs: list[Job]) -> AsyncIterator[None]:
    """Run ``jobs`` for as long as the block lasts; cancel them when it ends."""
    tasks = [asyncio.create_task(_loop(job), name=f"govshare-{job.name}") for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
