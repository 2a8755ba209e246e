"""Every answer of the Stripe emulator checked against Stripe's schemas (from the SDK).

The schemas are generated from the pinned stripe-python's annotations by
`tests/fixtures/stripe/schemas/generate.py`. Importing the `stripe_schema` fixture into a
test module (`from emulator_schema import stripe_schema  # noqa: F401`) checks every API
answer and every recorded event of that module's tests; loading this file as a plugin
(`-p emulator_schema`, or `pytest_plugins = ["emulator_schema"]` in tests/conftest.py)
checks them in every test of the run.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

SCHEMAS = Path(__file__).parent / "fixtures" / "stripe" / "schemas"


@cache
def registry() -> Registry:
    """Every generated schema, by its `$id`, so they can refer to each other."""
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for one schema file (`refund`, `list`, `error`...)."""
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    return Draft202012Validator(schema, registry=registry())


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors that explain `error`: inside an `anyOf`, those of the branch that got
    deepest into the value (an object that is wrong inside, not the `null` branch)."""
    if not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.schema_path[0], []).append(sub)
    closest = max(branches.values(), key=lambda subs: max(len(e.absolute_path) for e in subs))
    return [leaf for sub in closest for leaf in _leaves(sub)]


def problems(body: Any, status: int = 200) -> list[str]:
    """What in an emulator answer differs from Stripe's schema (empty: nothing)."""
    if status < 400 and isinstance(body, dict) and body.get("deleted") is True:
        # Stripe answers a delete with the deleted object's id and kind only.
        extra = set(body) - {"id", "object", "deleted"}
        return [f"a deleted {body.get('object')} carries {sorted(extra)}"] if extra else []
    if status >= 400:
        names = ["error"]
    elif isinstance(body, dict) and body.get("object") == "list":
        names = ["list"]
        for item in body.get("data", []):
            names.append(item.get("object", "?") if isinstance(item, dict) else "?")
    else:
        names = [body.get("object", "?") if isinstance(body, dict) else "?"]
    found = []
    for index, name in enumerate(names):
        if not (SCHEMAS / f"{name}.json").exists():
            found.append(f"no schema for object {name!r}")
            continue
        target = body if index == 0 else body["data"][index - 1]
        for error in validator(name).iter_errors(target):
            for leaf in _leaves(error):
                where = "/".join(str(part) for part in leaf.absolute_path) or "(root)"
                found.append(f"{name} {where}: {leaf.message[:300]}")
    return found


def assert_stripe_shaped(body: Any, status: int = 200) -> None:
    """Fail with every difference between `body` and Stripe's schema."""
    found = problems(body, status)
    assert not found, "not Stripe-shaped:\n" + "\n".join(found)


@pytest.fixture(autouse=True)
def stripe_schema(monkeypatch) -> list[tuple[int, dict]]:
    """Check every emulator API answer and every event it records; the answers seen."""
    from shop.payments.emulator import api, shapes

    seen: list[tuple[int, dict]] = []
    handle, event = api.handle, shapes.event

    def checked_handle(*args, **kwargs):
        """`api.handle`, with its answer checked."""
        status, body, headers = handle(*args, **kwargs)
        assert_stripe_shaped(body, status)
        seen.append((status, body))
        return status, body, headers

    def checked_event(*args, **kwargs):
        """`shapes.event`, with the event checked as it is recorded."""
        body = event(*args, **kwargs)
        assert_stripe_shaped(body)
        return body

    monkeypatch.setattr(api, "handle", checked_handle)
    monkeypatch.setattr(shapes, "event", checked_event)
    return seen
