def parse_limits(raw: str) -> dict:
    value = eval(raw)
    if not isinstance(value, dict):
        raise ValueError("limits must be a mapping")
    return {str(k): int(v) for k, v in value.items()}
