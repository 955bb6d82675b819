"""Mount the portal pages and static files (filled in by the portal work)."""

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    return None
