"""Reading the JSON files a user may hand us (model bundles, dataset projects) without trusting them.

One reader for all of them: a pipe is not waited on, a huge file is not read, bytes that are not
UTF-8, JSON that does not parse or nests without end (a RecursionError in the parser) and JSON of
the wrong shape (checked against a JSON Schema with the jsonschema library) all become one
StudioError line that says which field is wrong and how.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from .errors import StudioError

# Our JSON files are a few KB to a few MB (a bundle's statistics); anything far larger is not one.
MAX_JSON_BYTES = 64 << 20


def read_json(path: str | Path, *, error: type[StudioError] = StudioError, what: str | None = None,
              schema: dict | None = None, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The parsed contents of `path`, checked against `schema`; `error` (with the path) otherwise."""
    path = Path(path)
    what = what or path.name
    try:
        # O_NONBLOCK: a FIFO put where a file should be must not hang the open.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error(f"{what} is missing", path=path) from None
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror or exc}", path=path) from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{what} is not a regular file (a pipe, device or folder)", path=path)
        if st.st_size > max_bytes:
            raise error(f"{what} is {st.st_size / 2**20:.0f} MiB, far too large to be one", path=path)
        try:
            raw = fh.read(max_bytes + 1)
        except OSError as exc:
            raise error(f"cannot read {what}: {exc.strerror or exc}", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} is not UTF-8 text (bad byte at offset {exc.start}): corrupt", path=path) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{what} is corrupt: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
                    path=path) from None
    except RecursionError:
        raise error(f"{what} is corrupt: its JSON nests too deeply to be read", path=path) from None
    if schema is not None and (problem := schema_problem(data, schema, what=what)) is not None:
        raise error(problem, path=path)
    return data


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_TYPE_WORDS = {"object": "an object", "array": "a list", "string": "a string", "number": "a number",
               "integer": "a whole number", "boolean": "true or false", "null": "null"}


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def schema_problem(data: Any, schema: dict, *, what: str) -> str | None:
    """None if `data` fits `schema`; otherwise one line naming the field and what is wrong with it."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    try:
        err = best_match(Draft202012Validator(schema).iter_errors(data))
    except RecursionError:
        return f"{what} is corrupt: it nests too deeply to be checked"
    if err is None:
        return None
    where = ".".join(str(p) for p in err.absolute_path)
    field = f"{what} field {where!r}" if where else what
    kind, expected, value = err.validator, err.validator_value, err.instance
    if kind == "required":
        missing = next((k for k in expected if isinstance(value, dict) and k not in value), "?")
        inside = f" field {where!r}" if where else ""
        return f"{what}{inside} lacks {missing!r}: not a complete description"
    if kind == "type":
        types = [expected] if isinstance(expected, str) else list(expected)
        return f"{field} must be {' or '.join(_TYPE_WORDS.get(t, t) for t in types)}, not {_json_type(value)}"
    if kind == "uniqueItems":
        seen: set = set()
        dup = next((v for v in value if (json.dumps(v, sort_keys=True) in seen)
                    or seen.add(json.dumps(v, sort_keys=True))), None)
        return f"{field} names {_short(dup)} more than once"
    if kind == "const":
        return f"{field} must be {_short(expected)}, not {_short(value)}"
    if kind == "enum":
        return f"{field} must be one of {', '.join(_short(v) for v in expected)}, not {_short(value)}"
    if kind in ("minItems", "maxItems"):
        return f"{field} has {len(value)} entries ({'at least' if kind == 'minItems' else 'at most'} {expected} needed)"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "above",
                 "exclusiveMaximum": "below"}[kind]
        return f"{field} must be {words} {expected}, not {_short(value)}"
    if kind in ("oneOf", "anyOf") and "description" in err.schema:
        return f"{field} must be {err.schema['description']}, not {_json_type(value)}"
    if kind == "minProperties":
        return f"{field} is empty"
    if kind == "additionalProperties":
        return f"{field} has an unknown field ({err.message.split('(')[-1].rstrip(')')})"
    message = " ".join(err.message.split())
    return f"{field} is invalid: {message[:120]}"
