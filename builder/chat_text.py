"""The one place builder turns a conversation into a chat model's prompt text.

Training (builder.train.sft), the merge check (builder.export.merge), the export check
(builder.export.verify) and the chat eval (builder.chat_eval) all render conversations through
`render_chat`, so the text a model is trained on is shaped exactly like the text it is verified and
scored on: by the model's own chat template. A template is anything with Hugging Face's
`apply_chat_template(messages, tokenize=False, add_generation_prompt=...)`: a tokenizer, or
`GGUFTemplate` for the template a GGUF file carries.
"""

from __future__ import annotations

from typing import Any, Sequence


def user_turn(text: str) -> list[dict[str, str]]:
    """A one-message conversation: the user asks `text`."""
    return [{"role": "user", "content": text}]


def render_chat(template: Any, messages: Sequence[dict], *, reply_prompt: bool = False) -> str:
    """`messages` as the model sees them; `reply_prompt` appends the opening of the assistant's turn."""
    return template.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=reply_prompt)


class GGUFTemplate:
    """The chat template stored in a GGUF file, rendered with llama-cpp-python's Jinja formatter."""

    def __init__(self, template: str, *, eos_token: str, bos_token: str) -> None:
        self.template, self.eos_token, self.bos_token = template, eos_token, bos_token
        self._formatters: dict[bool, Any] = {}

    def apply_chat_template(self, messages: list[dict], *, tokenize: bool = False,
                            add_generation_prompt: bool = False) -> str:
        if tokenize:
            raise ValueError("GGUFTemplate renders text only; tokenize with the model")
        fmt = self._formatters.get(add_generation_prompt)
        if fmt is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            fmt = Jinja2ChatFormatter(template=self.template, eos_token=self.eos_token, bos_token=self.bos_token,
                                      add_generation_prompt=add_generation_prompt)
            self._formatters[add_generation_prompt] = fmt
        return fmt(messages=messages).prompt
