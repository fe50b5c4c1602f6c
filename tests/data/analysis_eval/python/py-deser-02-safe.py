import yaml


def load_pipeline(uploaded_text: str) -> dict:
    spec = yaml.safe_load(uploaded_text)
    if "stages" not in spec:
        raise ValueError("pipeline needs stages")
    return spec
