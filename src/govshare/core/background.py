"""Background work of a serving process: functions run again and again in a worker thread.

``create_app`` lists the platform's background work in one place and starts it with the app's
lifespan (:func:`running`); tests turn it off with the settings each job reads. A job is a plain
function that brings the world up to date and returns; it runs in a thread (it does blocking
database work), every ``interval`` seconds, and a failure is logged and retried at the next round
instead of stopping the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable

log = logging.getLogger("govshare.background")


@dataclasses.dataclass(frozen=True, slots=True)
class Job:
    name: str
    run: Callable[[], object]
    interval: float


async def _loop(job: Job) -> None:
    while True:
        try:
            await asyncio.to_thread(job.run)
        except Exception:  # keep serving; the next round retries
            log.exception("background job %s failed", job.name)
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
