"""Serves /health 200, then exits with EXIT_CODE (default 3) EXIT_AFTER seconds (default
1) after startup, with os._exit: no shutdown, like a crash."""

import asyncio
import contextlib
import os
import sys

from common import announce, env_float, make_app

EXIT_AFTER = env_float("EXIT_AFTER", 1.0)
EXIT_CODE = int(os.environ.get("EXIT_CODE", "3"))


def crash():
    print(f"crash: exiting with {EXIT_CODE}", file=sys.stderr, flush=True)
    os._exit(EXIT_CODE)


@contextlib.asynccontextmanager
async def lifespan(app):
    announce("crash", exit_after=EXIT_AFTER, exit_code=EXIT_CODE)
    asyncio.get_running_loop().call_later(EXIT_AFTER, crash)
    yield


app = make_app("crash", lifespan)
