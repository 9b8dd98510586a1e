"""Shared pieces of the test apps (see README.md): env parsing, the startup line, the
deadlocking init, routes. Plain Starlette, so they import fast and need no FastAPI."""

import asyncio
import os
import signal
import sys
import time

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

EMERGENCY = os.environ.get("EMERGENCY_MODE", "") == "1"
MODE = "emergency" if EMERGENCY else "normal"


def env_float(name, default):
    """A number of seconds from the environment (tests pass e.g. STARTUP_DELAY=2.5)."""
    value = os.environ.get(name, "")
    return float(value) if value else default


def announce(name, **extra):
    """One line on stdout per start, so a test can count spawns and see the mode."""
    fields = " ".join(f"{k}={v}" for k, v in extra.items())
    print(f"{name}: mode={MODE} pid={os.getpid()} {fields}".rstrip(), flush=True)


async def _init_step(first, second, name):
    """Take first, yield to the other task, then want second: with the other task doing
    the same in the opposite order, both wait for ever (no timeout, as in the incident)."""
    async with first:
        await asyncio.sleep(0.1)
        print(f"{name}: waiting for the second lock", file=sys.stderr, flush=True)
        async with second:
            pass


async def deadlocked_init():
    """The incident's startup: cache init and pool init, each needing the other's lock."""
    cache_lock, pool_lock = asyncio.Lock(), asyncio.Lock()
    await asyncio.gather(_init_step(cache_lock, pool_lock, "cache init"),
                         _init_step(pool_lock, cache_lock, "pool init"))


def ignore_term():
    """Make SIGTERM really ignored (SIG_IGN in the kernel), replacing the handler uvicorn
    installed with loop.add_signal_handler before the lifespan started."""
    try:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
    except RuntimeError:
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def block_loop():
    """Wedge the event loop thread for ever: no request, probe or signal flag is handled."""
    print(f"blocking the event loop (pid {os.getpid()})", file=sys.stderr, flush=True)
    while True:
        time.sleep(3600)


def text(body, status=200):
    return PlainTextResponse(body + "\n", status_code=status)


def make_app(name, lifespan, ready=lambda: True, extra_routes=()):
    """An app with /health (200 once ready(), 503 "degraded" in emergency mode),
    /health-emergency (200 whenever serving) and / (name, mode, pid)."""

    async def health(request):
        if EMERGENCY:
            return text("degraded", 503)
        return text("ok") if ready() else text("initialising", 503)

    async def health_emergency(request):
        return text(f"ok mode={MODE}")

    async def index(request):
        return text(f"{name} mode={MODE} pid={os.getpid()}")

    routes = [Route("/health", health), Route("/health-emergency", health_emergency),
              Route("/", index), *extra_routes]
    return Starlette(routes=routes, lifespan=lifespan)
