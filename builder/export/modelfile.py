"""An Ollama Modelfile for the exported GGUF: the chat template and stop tokens of the profile."""

from __future__ import annotations

from builder.profiles import Profile

_TEMPLATES = {
    "chatml": (
        '{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}'
        '{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}'
        '<|im_start|>assistant\n'
    ),
    "llama3": (
        '{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}'
        '{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}'
        '<|start_header_id|>assistant<|end_header_id|>\n\n'
    ),
    "mistral": (
        '{{- range $i, $m := .Messages }}{{- if eq $m.Role "user" }}[INST] '
        '{{- if and $.System (eq $i 0) }}{{ $.System }}\n\n{{ end }}{{ $m.Content }}[/INST]'
        '{{- else if eq $m.Role "assistant" }} {{ $m.Content }}</s>{{- end }}{{- end }}'
    ),
}


def modelfile(profile: Profile, gguf_name: str, *, system: str | None = None, num_ctx: int | None = None) -> str:
    template = _TEMPLATES.get(profile.chat_template)
    if template is None:
        raise ValueError(f"no Ollama template for chat_template {profile.chat_template!r}")
    lines = [f"# Ollama Modelfile for the {profile.name} profile (built by Bastion's builder)",
             f"FROM ./{gguf_name}", f'TEMPLATE """{template}"""']
    for stop in profile.stop:
        lines.append(f'PARAMETER stop "{stop}"')
    lines.append(f"PARAMETER num_ctx {num_ctx or min(profile.context_length, 8192)}")
    lines.append("PARAMETER temperature 0.2")
    if system:
        lines.append(f'SYSTEM """{system}"""')
    return "\n".join(lines) + "\n"
