def run_hook(settings_row: dict, event: dict) -> dict:
    source = settings_row["on_event"]
    namespace = {"event": event, "result": {}}
    exec(source, namespace)
    return namespace["result"]
