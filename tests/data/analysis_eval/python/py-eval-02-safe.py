HANDLERS = {
    "tag_urgent": lambda event: {"tags": ["urgent"]} if event.get("priority", 0) > 7 else {},
    "noop": lambda event: {},
    "copy_owner": lambda event: {"assignee": event.get("owner")},
}


def run_hook(settings_row: dict, event: dict) -> dict:
    handler = HANDLERS.get(settings_row["on_event"], HANDLERS["noop"])
    return handler(event)
