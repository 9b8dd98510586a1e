"""Like deadlock.py, but fixable: when the file named by FIXED_FILE exists at startup,
the init works and /health is 200; otherwise the startup deadlocks. EMERGENCY_MODE=1
skips the init (/health-emergency 200, /health 503 "degraded"). A test creates the file
while tend is in emergency mode and expects tend to return to normal mode after
recover_after."""

import contextlib
import os

from common import EMERGENCY, announce, deadlocked_init, make_app

FIXED_FILE = os.environ.get("FIXED_FILE", "")
state = {"ready": False}


@contextlib.asynccontextmanager
async def lifespan(app):
    fixed = bool(FIXED_FILE) and os.path.exists(FIXED_FILE)
    announce("recover", fixed=int(fixed))
    if not EMERGENCY:
        if not fixed:
            await deadlocked_init()  # never returns
        state["ready"] = True
    yield


app = make_app("recover", lifespan, ready=lambda: state["ready"])
