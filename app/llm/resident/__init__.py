"""The resident engine: one local process per user that keeps the bundle's model loaded.

`protocol` holds the socket's place, the wire format and the engine key; `server` is the
process (`python -m app.llm.resident.server`); `client.ResidentEngine` is the `ChatEngine`
the app gets from `app.runtime.make_engine` when `engine.resident` is on.
"""
