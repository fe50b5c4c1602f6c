import yaml


def load_pipeline(uploaded_text: str) -> dict:
    spec = yaml.load(uploaded_text, Loader=yaml.Loader)
    if "stages" not in spec:
        raise ValueError("pipeline needs stages")
    return spec
