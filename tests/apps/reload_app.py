"""A bare ASGI app (no Starlette: imports in a blink, so uvicorn's reloader restarts it
fast) for the reload tests. The tests copy it into a temporary directory that uvicorn's
--reload-dir watches, then rewrite the copy to make the reloader restart the server.

Prints `reload_app: mode=normal|emergency pid=N` on stdout at import (once per server
process) and answers every HTTP request with 200 `ok mode=...`."""

import os

MODE = "emergency" if os.environ.get("EMERGENCY_MODE", "") == "1" else "normal"
print(f"reload_app: mode={MODE} pid={os.getpid()}", flush=True)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": f"ok mode={MODE}\n".encode()})
