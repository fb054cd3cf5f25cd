"""The OpenAPI document as Markdown, for docs/API.md.

docs/API.md embeds `markdown(document)` between two markers; a test checks
that the embedded text is what the served document gives today, so the
written reference cannot drift from the code (`python scripts/api_doc.py`
writes it again after a change)."""
from __future__ import annotations

from typing import Any

BEGIN = "<!-- reference: generated from /api/v1/openapi.json by scripts/api_doc.py; do not edit by hand -->"
END = "<!-- end of the generated reference -->"


def type_of(schema: Any) -> str:
    """A schema in a few words: `string ≤ 64`, `list of ScanItem`, `ScanBag | null`."""
    if not isinstance(schema, dict) or not schema:
        return "any"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "anyOf" in schema:
        return " \\| ".join(type_of(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type")
    if kind == "array":
        return f"list of {type_of(schema.get('items'))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map to {type_of(schema['additionalProperties'])}"
    if isinstance(kind, list):
        text = " \\| ".join(kind)
    else:
        text = kind or "any"
        if schema.get("format"):
            text += f" ({schema['format']})"
    if "maxLength" in schema:
        text += f" ≤ {schema['maxLength']}"
    if "minimum" in schema and "maximum" in schema:
        text += f" {schema['minimum']:,}…{schema['maximum']:,}"
    return text


def _cell(text: str | None) -> str:
    return (text or "").replace("\n", " ").replace("|", "\\|")


def _fields(schema: dict) -> list[str]:
    props = schema.get("properties") or {}
    if not props:
        return [f"{type_of(schema)}", ""]
    required = set(schema.get("required") or ())
    lines = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, prop in props.items():
        lines.append(f"| `{name}` | {type_of(prop)} | {'yes' if name in required else ''} | "
                     f"{_cell(prop.get('description'))} |")
    return lines + [""]


def markdown(doc: dict) -> str:
    """Every operation (parameters, body, answers) and every schema."""
    out = [BEGIN, ""]
    by_tag: dict[str, list] = {}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            by_tag.setdefault((op.get("tags") or [""])[0], []).append((method.upper(), path, op))
    responses = doc["components"]["responses"]
    for tag in doc["tags"]:
        if tag["name"] not in by_tag:
            continue
        out += [f"### {tag['description']}", ""]
        for method, path, op in by_tag[tag["name"]]:
            out += [f"#### `{method} {path}` — {op['summary']}", ""]
            if op.get("description"):
                out += [op["description"], ""]
            params = op.get("parameters") or []
            if params:
                out += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
                for p in params:
                    name = f"`{p['name']}`" + (" (deprecated)" if p.get("deprecated") else "")
                    out.append(f"| {name} | {p['in']} | {type_of(p['schema'])} | {'yes' if p['required'] else ''} | "
                               f"{_cell(p.get('description'))} |")
                out.append("")
            if op.get("requestBody"):
                body = op["requestBody"]["content"]["application/json"]["schema"]
                out += [f"Body: {type_of(body)}", ""]
            answers = []
            for code, r in op["responses"].items():
                if "$ref" in r:
                    answers.append(f"{code}")
                    continue
                media = ", ".join(f"{type_of(c['schema']) if m == 'application/json' else m}"
                                  for m, c in (r.get("content") or {}).items())
                answers.append(f"{code} {media}")
            out += ["Answers: " + " · ".join(answers), ""]
    out += ["### Error answers", "", "Every error is an `Error` (`{\"error\", \"field\"}`):", ""]
    out += [f"- `{code[1:]}`: {r['description']}" for code, r in responses.items()] + [""]
    out += ["### Schemas", ""]
    for name, schema in doc["components"]["schemas"].items():
        out += [f"#### {name}", ""]
        if schema.get("description"):
            out += [_cell(schema["description"]), ""]
        out += _fields(schema)
    out.append(END)
    return "\n".join(out) + "\n"


def embedded(text: str) -> str | None:
    """The generated part of docs/API.md's text (None without the markers)."""
    if BEGIN not in text or END not in text:
        return None
    return text[text.index(BEGIN):text.index(END) + len(END)] + "\n"


def replace(text: str, generated: str) -> str:
    """docs/API.md's text with its generated part replaced (appended without markers)."""
    current = embedded(text)
    if current is None:
        return text.rstrip("\n") + "\n\n" + generated
    return text.replace(current, generated)
