"""Serves /health 200, then wedges its event loop: HANG_AFTER seconds after startup (unset
or 0: never) or 100 ms after a GET /hang. SIGTERM is ignored from startup on (SIG_IGN, see
common.ignore_term), so only SIGKILL ends it; IGNORE_TERM=0 keeps uvicorn's handler (even
then a wedged loop never acts on it). With PYTHONFAULTHANDLER=1, SIGABRT prints every
thread's traceback to stderr (showing block_loop) and ends the process."""

import asyncio
import contextlib
import os

from starlette.routing import Route

from common import announce, block_loop, env_float, ignore_term, make_app, text

HANG_AFTER = env_float("HANG_AFTER", 0.0)


@contextlib.asynccontextmanager
async def lifespan(app):
    if os.environ.get("IGNORE_TERM", "1") != "0":
        ignore_term()
    announce("hang", hang_after=HANG_AFTER)
    if HANG_AFTER > 0:
        asyncio.get_running_loop().call_later(HANG_AFTER, block_loop)
    yield


async def hang(request):
    asyncio.get_running_loop().call_later(0.1, block_loop)
    return text("hanging in 100 ms")


app = make_app("hang", lifespan, extra_routes=[Route("/hang", hang)])
