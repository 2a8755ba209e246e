"""Stripe's form encoding: bracketed keys to nested dicts and lists."""

import re
from typing import Any

from . import errors

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def decode(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Nest bracketed form keys: `a[0][b]=1` -> {"a": [{"b": "1"}]}; `a[]` appends."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        match = _KEY.match(raw_key)
        if not match:
            raise errors.invalid(raw_key, f"Invalid parameter name: {raw_key}")
        parts = [match.group(1), *_PART.findall(match.group(2))]
        node = root
        for index, part in enumerate(parts):
            key = part or str(len(node))
            if index == len(parts) - 1:
                if isinstance(node.get(key), dict):
                    raise errors.invalid(raw_key, f"Invalid hash: {raw_key}")
                node[key] = value
            else:
                child = node.setdefault(key, {})
                if not isinstance(child, dict):
                    raise errors.invalid(raw_key, f"Invalid hash: {raw_key}")
                node = child
    return _listify(root)


def _listify(node: Any) -> Any:
    """Turn dicts keyed only by indices into lists, in index order."""
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items
