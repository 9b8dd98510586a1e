"""The incident: lifespan startup deadlocks (two asyncio locks taken in opposite order by
two init tasks). With EMERGENCY_MODE=1 the broken init is skipped: /health-emergency is
200 and /health is 503 "degraded".

Observed with Debian's uvicorn 0.17: uvicorn binds its port only after the lifespan
startup completes, so while the startup hangs every connection is refused (a probe sees
"refused", not a timeout). SIGTERM and SIGINT only set uvicorn's should_exit flag, which
nothing looks at while the startup hangs: the process ignores them in effect and only
SIGKILL ends it (tend's stop_timeout path).
"""

import contextlib

from common import EMERGENCY, announce, deadlocked_init, make_app

state = {"ready": False}


@contextlib.asynccontextmanager
async def lifespan(app):
    announce("deadlock")
    if not EMERGENCY:
        await deadlocked_init()  # never returns
        state["ready"] = True
    yield


app = make_app("deadlock", lifespan, ready=lambda: state["ready"])
