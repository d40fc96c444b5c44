"""The OpenAPI 3 document, generated from the API's routes, their ``doc`` and their forms."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange

from planner.core.api import PREFIX, doc
from planner.core.forms import ListBody, ListLength

bp = Blueprint("openapi", __name__, url_prefix=PREFIX)

# <name>, <int:name>, <any(a, 'b-c'):name> of Werkzeug's routes
_CONVERTER = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def _path_parameter(conv: str, args: str, name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer" if conv == "int" else "string"}
    if conv == "any":
        schema["enum"] = [a.strip().strip("'\"") for a in args.split(",")]
    return {"name": name, "in": "path", "required": True, "schema": schema}


def field_schema(field: Any) -> dict[str, Any]:
    """JSON Schema of one WTForms field, from its type and validators."""
    schema: dict[str, Any]
    if isinstance(field, SelectMultipleField):
        item = "string" if field.coerce is str else "integer"
        schema = {"type": "array", "items": {"type": item}}
        for v in field.validators:
            if isinstance(v, ListLength):
                schema["maxItems"] = v.max
        if field.description:
            schema["description"] = str(field.description)
        return schema
    if isinstance(field, BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, IntegerField):
        schema = {"type": "integer"}
    elif isinstance(field, FloatField):
        schema = {"type": "number"}
    elif isinstance(field, DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, FileField):
        schema = {"type": "string", "format": "binary"}
    else:
        schema = {"type": "string"}
    if isinstance(field, SelectField) and field.validate_choice and field.choices:
        values = [c.value for c in field.choices if c.value != ""]
        schema["enum"] = values
    for v in field.validators:
        if isinstance(v, Length):
            if v.max is not None and v.max >= 0:
                schema["maxLength"] = v.max
            if v.min is not None and v.min > 0:
                schema["minLength"] = v.min
        elif isinstance(v, NumberRange):
            if v.min is not None:
                schema["minimum"] = v.min
            if v.max is not None:
                schema["maximum"] = v.max
        elif isinstance(v, AnyOf):
            schema["enum"] = list(v.values)
        elif (
            isinstance(v, DataRequired)
            and schema["type"] == "string"
            and "format" not in schema
            and "enum" not in schema
        ):
            # DataRequired refuses "" and whitespace: at least one character
            schema["minLength"] = max(schema.get("minLength", 0), 1)
    if field.description:
        schema["description"] = str(field.description)
    return schema


def form_schema(form_cls: type[FlaskForm]) -> dict[str, Any]:
    form = form_cls(formdata=None, meta={"csrf": False})
    props: dict[str, Any] = {}
    required: list[str] = []
    for field in form:
        props[field.name] = field_schema(field)
        props[field.name]["title"] = str(field.label.text)
        if any(isinstance(v, DataRequired | InputRequired) for v in field.validators) or (
            isinstance(field, FileField) and field.flags.required
        ):
            required.append(field.name)
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


PROBLEM = {
    "description": "Error (application/problem+json)",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def build(app: Flask) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {
        "Problem": {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["status", "detail"],
        }
    }
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(PREFIX):
            continue
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "openapi", None)
        if meta is None:
            continue
        path = _CONVERTER.sub(r"{\3}", rule.rule)
        params = [_path_parameter(*m) for m in _CONVERTER.findall(rule.rule)]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "summary": meta["summary"],
                "description": f"Requires: {meta['permission']}." if meta.get("permission") else "",
                "parameters": list(params),
                "responses": {
                    str(meta["status"]): {"description": meta["returns"]},
                    "400": PROBLEM,
                    "401": PROBLEM,
                    "403": PROBLEM,
                    "404": PROBLEM,
                    "409": PROBLEM,
                    "422": PROBLEM,
                },
            }
            if meta.get("public"):
                op["security"] = []
            if meta["paginated"]:
                op["parameters"] += [
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                    },
                ]
            if meta.get("query") is not None:
                for name, schema in form_schema(meta["query"])["properties"].items():
                    schema.pop("title", None)
                    op["parameters"].append({"name": name, "in": "query", "schema": schema})
            if meta["binary"]:
                types = ("application/octet-stream",) if meta["binary"] is True else meta["binary"]
                op["responses"][str(meta["status"])]["content"] = {
                    t: {"schema": {"type": "string", "format": "binary"}} for t in types
                }
                if meta["returns"] == "JSON object":  # the default says nothing of a file
                    op["responses"][str(meta["status"])]["description"] = "The file"
            for status, description in meta.get("also", {}).items():
                op["responses"][str(status)] = {
                    "description": description,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            if meta.get("upload"):
                binary_body = {"schema": {"type": "string", "format": "binary"}}
                op["requestBody"] = {
                    "required": True,
                    "content": {
                        **{t: binary_body for t in meta["upload"]},
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {"file": {"type": "string", "format": "binary"}},
                                "required": ["file"],
                            }
                        },
                    },
                }
            form_cls = meta["body"]
            if form_cls is not None and method in {"POST", "PUT", "PATCH"}:
                if isinstance(form_cls, ListBody):
                    name = f"{form_cls.row.__name__}List"
                    schemas[name] = form_cls.schema(form_schema)
                else:
                    name = form_cls.__name__
                    schemas[name] = form_schema(form_cls)
                media = "multipart/form-data" if meta["multipart"] else "application/json"
                op["requestBody"] = {
                    "required": True,
                    "content": {media: {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                }
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "planner API", "version": "1.0.0"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


@bp.get("/openapi.json")
@doc("This document", public=True)
def openapi_json():
    return jsonify(build(current_app._get_current_object()))
