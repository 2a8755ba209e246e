"""`GET /api/docs`: the OpenAPI document as a plain, accessible page (no script at all),
read from the same document `/api/openapi.json` serves, so the two cannot differ."""

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

METHOD_ORDER = ("get", "post", "put", "delete")


@dataclass(frozen=True)
class Field:
    """A parameter or a model's property, as a row of a table."""

    name: str
    where: str
    type: str
    required: bool
    description: str
    #: The model the type names, for a link (None: a plain type).
    model: str | None = None


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    media_type: str
    model: str | None


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str
    summary: str
    description: str
    needs_token: bool
    parameters: list[Field]
    body: str | None
    answers: list[Answer]


@dataclass(frozen=True)
class Model:
    name: str
    description: str
    fields: list[Field] = field(default_factory=list)


_CODE = re.compile(r"`([^`]+)`")


def code_spans(text: str) -> Markup:
    """The document's text with its `code` spans as <code> (everything else escaped)."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text or ""))))


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_of(schema: dict) -> tuple[str, str | None]:
    """A schema in words ("integer, 1 to 10", "list of Order", "Money or null") and the
    model it names, if any."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return name, name
    if "anyOf" in schema:
        parts = [type_of(part) for part in schema["anyOf"]]
        model = next((m for _, m in parts if m), None)
        return " or ".join(words for words, _ in parts), model
    kind = schema.get("type", "any")
    if kind == "array":
        inner, model = type_of(schema.get("items", {}))
        return f"list of {inner}", model
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"]), None
    if "const" in schema:
        return f"`{schema['const']}`", None
    words = kind
    if schema.get("format") and schema["format"] not in ("int32",):
        words += f" ({schema['format']})"
    if "minimum" in schema and "maximum" in schema:
        words += f", {schema['minimum']} to {schema['maximum']}"
    elif "minimum" in schema:
        words += f", at least {schema['minimum']}"
    if "maxLength" in schema:
        words += f", at most {schema['maxLength']} characters"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        inner, model = type_of(schema["additionalProperties"])
        return f"object of {inner}", model
    return words, None


def operations(document: dict) -> list[Operation]:
    """Every operation, in the document's order of paths, GET before POST."""
    found = []
    for path, methods in document["paths"].items():
        for method in sorted(methods, key=METHOD_ORDER.index):
            op = methods[method]
            parameters = []
            for parameter in op.get("parameters", []):
                words, model = type_of(parameter["schema"])
                parameters.append(Field(parameter["name"], parameter["in"], words,
                                        parameter.get("required", False),
                                        parameter.get("description", ""), model))  # fmt: skip
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            answers = []
            for status, answer in op["responses"].items():
                media, content = next(iter(answer.get("content", {"": {}}).items()))
                ref = content.get("schema", {}).get("$ref")
                answers.append(Answer(status, answer["description"], media,
                                      _ref_name(ref) if ref else None))  # fmt: skip
            found.append(
                Operation(
                    id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", ""),
                    description=op.get("description", ""),
                    needs_token=bool(op.get("security")),
                    parameters=parameters,
                    body=_ref_name(body["schema"]["$ref"]) if body else None,
                    answers=sorted(answers, key=lambda a: a.status),
                )
            )
    return found


def models(document: dict) -> list[Model]:
    """Every schema of the document, by name, with its properties."""
    found = []
    for name, schema in sorted(document["components"]["schemas"].items()):
        required = set(schema.get("required", []))
        fields = []
        for prop, spec in schema.get("properties", {}).items():
            words, model = type_of(spec)
            fields.append(Field(prop, "", words, prop in required,
                                spec.get("description", ""), model))  # fmt: skip
        found.append(Model(name, schema.get("description", ""), fields))
    return found
