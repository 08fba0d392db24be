"""The REST API's declarations (server/api.py): limits, JSON schemas, the validator, `Param` and
`Op` (one operation: method, path, parameters, body and response schemas, errors) and the OpenAPI
3.0 document generated from a list of them. No Flask routes here."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import uploads

MAX_VECTORS = 256  # latent vectors (or positions, or images) per request
MAX_DIM = 4096  # numbers per latent vector the schema admits (the model's own size is checked too)
MAX_ABS = 1e6  # latents and map coordinates beyond this are refused (no float32 overflow downstream)
MAX_K = 1000  # neighbours per request
MAX_SCALE = 8  # PNG enlargement
MAX_FORM_FIELD = 1024 * 1024  # bytes of a non-file multipart field (also werkzeug's parse buffer)

# ---------------------------------------------------------------------------------- schemas
NUMBER = {"type": "number", "minimum": -MAX_ABS, "maximum": MAX_ABS}
VECTOR = {"type": "array", "items": NUMBER, "minItems": 1, "maxItems": MAX_DIM}
LATENTS = {
    "type": "array",
    "items": VECTOR,
    "minItems": 1,
    "maxItems": MAX_VECTORS,
    "description": f"1 to {MAX_VECTORS} latent vectors, each with the model's latent_dim numbers",
}
MAP_NAME = {
    "type": "string",
    "pattern": "^(latent|pixel)-(pca|tsne|umap|raw)-[23]d$",
    "description": "a map of this model's atlas, e.g. latent-umap-2d (GET /models lists them)",
}
PIXEL = {"type": "number", "minimum": 0, "maximum": 1}
# [H, W], [C, H, W] / [H, W, C] or [n, C, H, W] / [n, H, W]: 2 to 4 levels of nesting
MAX_AXIS = 256  # JSON pixel arrays: at most this many entries per axis (upload a file for bigger images)


def _nested(item, levels: int) -> dict:
    """An array of `levels` nested arrays (1: of `item`), each level 1..MAX_AXIS long."""
    inner = {"type": "array", "minItems": 1, "maxItems": MAX_AXIS, "items": item}
    return inner if levels == 1 else _nested(inner, levels - 1)


PIXELS = {
    "anyOf": [_nested(PIXEL, 2), _nested(PIXEL, 3), _nested(PIXEL, 4)],
    "description": "pixels in [0, 1] shaped [H, W], [C, H, W], [H, W, C] or [n, C, H, W] at the model's size",
}
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "one line: what was wrong and what to do"}},
}
COORDS = {
    "type": "object",
    "description": "map name -> one [x, y] or [x, y, z] per input vector",
    "additionalProperties": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
}
MODEL_INFO = {
    "type": "object",
    "required": ["name", "kind", "latent_dim", "image_shape", "maps", "metrics"],
    "properties": {
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["ae", "vae", "generator", "linear"]},
        "latent_dim": {"type": "integer"},
        "image_shape": {"type": "array", "items": {"type": "integer"}, "description": "[C, H, W]"},
        "n": {"type": "integer", "description": "atlas items (valid indices are 0..n-1)"},
        "has_encoder": {"type": "boolean"},
        "dataset": {"type": "string"},
        "class_names": {"type": "array", "items": {"type": "string"}},
        "maps": {"type": "array", "items": {"type": "string"}},
        "map_dims": {"type": "object", "additionalProperties": {"type": "integer"}},
        "metrics": {"type": "object", "description": "atlas quality: per map trustworthiness, knn_acc, ..."},
    },
}
ERROR_TEXT = {
    400: "the request does not match the schema (bad JSON, wrong types, missing or unknown fields, limits)",
    404: "no such model (or path)",
    405: "method not allowed",
    413: f"body larger than the upload limit, or more than {uploads.MAX_PIXELS // 1_000_000} megapixels",
    415: "wrong Content-Type, or the upload is not a PNG, JPEG or WebP image",
    422: "well-formed but not for this model: latent length, index range, map name, no encoder",
    500: "a bug on the server (logged with its traceback)",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str, where: str = "", kind: str = "value"):
        super().__init__(" ".join(str(message).split()))
        self.status = status
        self.message = " ".join(str(message).split())
        self.where, self.kind = where, kind  # the field (validation errors) and "type" or "value"


# ---------------------------------------------------------------------------------- validation
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def _short(v) -> str:
    s = json.dumps(v) if isinstance(v, (dict, list, str, int, float, bool)) or v is None else repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def validate(value, schema: dict, where: str) -> None:
    """Check `value` against the subset of JSON Schema used above; ApiError(400) naming the field."""
    t = schema.get("type")
    if t is not None and not _TYPES[t](value):
        a = "an" if t[0] in "aeiou" else "a"
        raise ApiError(400, f"{where} must be {a} {t}, got {_short(value)}", where, "type")
    if "anyOf" in schema:
        errors = []
        for sub in schema["anyOf"]:
            try:
                validate(value, sub, where)
                break
            except ApiError as e:
                errors.append(e)
        else:  # report the alternative that got furthest: the deepest field, a wrong value before a wrong type
            raise max(errors, key=lambda e: (e.where.count("["), e.kind == "value"))
    if "enum" in schema and value not in schema["enum"]:
        raise ApiError(400, f"{where} is {_short(value)}; use one of {', '.join(map(str, schema['enum']))}", where)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise ApiError(400, f"{where} is not a finite number; pass real numbers", where)
        if "minimum" in schema and value < schema["minimum"]:
            raise ApiError(400, f"{where} is {value:g}, below the minimum {schema['minimum']:g}", where)
        if "maximum" in schema and value > schema["maximum"]:
            raise ApiError(400, f"{where} is {value:g}, above the maximum {schema['maximum']:g}", where)
    if isinstance(value, str):
        if "pattern" in schema:
            if not re.search(schema["pattern"], value):
                hint = schema.get("description", "see the schema")
                raise ApiError(400, f"{where} {_short(value)} is not valid: {hint}", where)
    if isinstance(value, list):
        n = len(value)
        if n < schema.get("minItems", 0):
            what = "is empty" if n == 0 else f"has {n} item(s)"
            raise ApiError(400, f"{where} {what}; send at least {schema['minItems']}", where)
        if n > schema.get("maxItems", n):
            raise ApiError(400, f"{where} has {n} items; the limit is {schema['maxItems']}: split the request", where)
        items = schema.get("items")
        if items is not None:
            if items is NUMBER:  # the hot path (latents): one pass, no recursion
                for k, v in enumerate(value):
                    if (
                        not isinstance(v, (int, float))
                        or isinstance(v, bool)
                        or not -MAX_ABS <= v <= MAX_ABS  # also false for NaN
                    ):
                        validate(v, NUMBER, f"{where}[{k}]")
            else:
                for k, v in enumerate(value):
                    validate(v, items, f"{where}[{k}]")
    if isinstance(value, dict):
        for req in schema.get("required", ()):
            if req not in value:
                raise ApiError(400, f"{where} lacks the required field {req!r}", where)
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                validate(v, props[k], f"{where}.{k}" if where != "body" else k)
            elif extra is False:
                raise ApiError(400, f"unknown field {k!r} in {where}; the fields are {', '.join(props)}")
            elif isinstance(extra, dict):
                validate(v, extra, f"{where}.{k}")


def _no_constant(name):
    raise ApiError(400, f"{name} is not a JSON number; send finite numbers")


# ---------------------------------------------------------------------------------- operations
@dataclass
class Param:
    name: str
    where: str  # "path" | "query"
    schema: dict
    description: str
    required: bool = False


@dataclass
class Op:
    method: str
    path: str  # OpenAPI style, relative to the API root: /models/{model}/decode
    op_id: str
    summary: str
    handler: Callable
    description: str = ""
    params: list = field(default_factory=list)
    body: dict | None = None  # content type -> schema
    response: tuple = ("application/json", {"type": "object"})
    errors: tuple = (400, 404, 405, 422)
    needs_model: bool = True
    example: dict | None = None  # a JSON body that works on the first model (docs; schemathesis' examples phase)

    @property
    def flask_path(self) -> str:
        return self.path.replace("{", "<").replace("}", ">")


def openapi_document(ops: list[Op], base: str) -> dict:
    paths: dict = {}
    for op in ops:
        o = {"operationId": op.op_id, "summary": op.summary}
        if op.description:
            o["description"] = op.description
        if op.params:
            o["parameters"] = [
                {
                    "name": p.name,
                    "in": p.where,
                    "required": p.required or p.where == "path",
                    "description": p.description,
                    "schema": p.schema,
                    **({"style": "form", "explode": False} if p.schema.get("type") == "array" else {}),
                }
                for p in op.params
            ]
        if op.body:
            content = {ct: {"schema": s} for ct, s in op.body.items()}
            if op.example is not None:
                content["application/json"]["example"] = op.example
            o["requestBody"] = {"required": True, "content": content}
        ctype, schema = op.response
        responses = {"200": {"description": "OK", "content": {ctype: {"schema": schema}}}}
        for code in sorted(set(op.errors) | {500}):
            responses[str(code)] = {
                "description": ERROR_TEXT[code],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        o["responses"] = responses
        paths.setdefault(op.path, {})[op.method] = o
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "latentdash API",
            "version": "1",
            "description": "Decode, encode, place and export the latent spaces this server explores (docs/api.md).",
        },
        "servers": [{"url": base}],
        "paths": paths,
        "components": {"schemas": {"Error": ERROR}},
    }


def _methods(op: Op) -> list[str]:
    m = op.method.upper()
    return [m, "HEAD", "OPTIONS"] if m == "GET" else [m, "OPTIONS"]


def _finite(obj):
    """JSON-safe copy: non-finite floats -> None (atlas metrics may hold NaN)."""
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
