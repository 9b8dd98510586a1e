"""tend's demo: a FastAPI app whose startup deadlocks, like the incident tend was made for.

Two services are initialised concurrently in the lifespan startup: the cache needs the
connection pool and the pool needs the cache. Each init task takes its own lock, yields,
then waits for the other's lock: a circular wait with no timeout. uvicorn binds its port
only after the startup completes, so nothing answers, and SIGTERM does not end it either
(uvicorn's exit flag is never looked at while the startup hangs).

With EMERGENCY_MODE=1 the app skips the broken init and serves degraded:
/health-emergency answers 200, /health answers 503 "degraded".

Optional: when DEMO_FIXED_FILE names a file that exists at startup, the "fixed" init runs
(no circular wait) and /health answers 200; tend's recover_after then finds normal mode
working again.

Run it with Debian's interpreter (it has python3-fastapi and python3-uvicorn):

    /usr/bin/python3 -m uvicorn app:app --app-dir contrib/demo --host 127.0.0.1 --port 8000
"""

import asyncio
import contextlib
import os
import sys

from fastapi import FastAPI
from fastapi.responses import JSONResponse

EMERGENCY = os.environ.get("EMERGENCY_MODE", "") == "1"
FIXED_FILE = os.environ.get("DEMO_FIXED_FILE", "")

services = {"cache": False, "pool": False}


def say(message):
    print(f"demo[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


async def init_cache(cache_lock, pool_lock, fixed):
    """The cache warms itself from the pool: cache lock first, then the pool's."""
    async with cache_lock:
        await asyncio.sleep(0.2)
        if not fixed:
            say("cache: waiting for the connection pool ...")
            async with pool_lock:
                pass
        services["cache"] = True


async def init_pool(cache_lock, pool_lock, fixed):
    """The pool registers with the cache: pool lock first, then the cache's."""
    async with pool_lock:
        await asyncio.sleep(0.2)
        if not fixed:
            say("pool: waiting for the cache ...")
            async with cache_lock:
                pass
        services["pool"] = True


@contextlib.asynccontextmanager
async def lifespan(_app):
    mode = "emergency" if EMERGENCY else "normal"
    print(f"demo: mode={mode} pid={os.getpid()}", flush=True)
    if EMERGENCY:
        say("EMERGENCY_MODE=1: skipping cache and pool init, serving degraded")
    else:
        fixed = bool(FIXED_FILE) and os.path.exists(FIXED_FILE)
        say("initialising cache and connection pool" + (" (fixed)" if fixed else ""))
        # Created here, inside uvicorn's event loop.
        cache_lock, pool_lock = asyncio.Lock(), asyncio.Lock()
        await asyncio.gather(init_cache(cache_lock, pool_lock, fixed),
                             init_pool(cache_lock, pool_lock, fixed))
        say("backend initialised")
    yield


app = FastAPI(title="tend demo")
# Set on the router: works with FastAPI versions before and after its lifespan= argument.
app.router.lifespan_context = lifespan


def ready():
    return all(services.values())


@app.get("/health")
async def health():
    if ready():
        return {"status": "ok"}
    status = "degraded" if EMERGENCY else "initialising"
    return JSONResponse({"status": status, "services": services}, status_code=503)


@app.get("/health-emergency")
async def health_emergency():
    return {"status": "ok", "mode": "emergency" if EMERGENCY else "normal"}


@app.get("/")
async def index():
    return {"app": "tend demo", "emergency": EMERGENCY, "services": services}
