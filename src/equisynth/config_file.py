"""Render the default settings as a commented TOML file."""

import json

from pydantic import BaseModel

from equisynth.config import Settings


def _toml_value(value) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def render_default_config() -> str:
    """Render every section and key of Settings with its default, each preceded by its description."""
    settings = Settings()
    lines = ["# equisynth settings. Every key is optional; the values below are the defaults.", ""]
    for field_name, field in Settings.model_fields.items():
        section_name = field.alias or field_name
        section: BaseModel = getattr(settings, field_name)
        lines.append(f"[{section_name}]")
        for key, key_field in type(section).model_fields.items():
            value = getattr(section, key)
            lines.append(f"# {key_field.description}")
            if value is None:
                lines.append(f"# {key} =")
            else:
                lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)
