"""Slow but healthy startup: the lifespan sleeps STARTUP_DELAY seconds (default 2), then
/health answers 200. While it sleeps the port is not bound yet (probes are refused)."""

import asyncio
import contextlib

from common import announce, env_float, make_app

DELAY = env_float("STARTUP_DELAY", 2.0)


@contextlib.asynccontextmanager
async def lifespan(app):
    announce("slow_start", delay=DELAY)
    await asyncio.sleep(DELAY)
    yield


app = make_app("slow_start", lifespan)
