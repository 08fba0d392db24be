"""The REST API under `{prefix}api/v1/`: models, decode, encode, project, unproject, neighbours and
the atlas as CSV, next to the page on the same server (docs/api.md).

Everything is declared once, in `operations()`: each operation's method, path, parameters, body
schemas, response schemas and error codes. The Flask routes, the request validation and the
OpenAPI 3.0 document (`GET openapi.json`) are all generated from that list, so they cannot drift.

Status codes: 400 the request does not match the schema (bad JSON, wrong types, missing or
unknown fields, out-of-range numbers, too many vectors); 404 unknown model or path; 405 wrong
method; 413 body over `ServeConfig.max_upload_mb` or an image with too many pixels; 415 wrong
content type or an upload that is not a PNG/JPEG/WebP image; 422 the request fits the schema but
not this model (latent length, an index past the atlas, a map this atlas lacks, a generator asked
to encode). Every error is JSON `{"error": "<one line: what was wrong and what to do>"}`; a bug is
a 500 logged with its traceback by the app-wide handler (routes.py).
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser

from .. import exports, imaging, uploads
from ..atlas.params import parse_map_name
from ..errors import LatentdashError

log = logging.getLogger(__name__)

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


def _model_param(catalog) -> Param:
    return Param(
        "model",
        "path",
        {"type": "string", "enum": list(catalog.names), "example": catalog.default},
        "a served model's name (GET /models)",
        True,
    )


def operations(catalog, max_upload_mb: float) -> list[Op]:
    model = _model_param(catalog)
    mb = f"{max_upload_mb:g} MB"
    first = catalog.views[catalog.default]  # examples that work on the first (default) model
    z0 = [0.0] * first.d
    flat = [m for m in first.map_names if first.explorer.coords(m).shape[1] == 2] or first.map_names
    return [
        Op(
            "get",
            "/openapi.json",
            "openapi",
            "This OpenAPI 3 document",
            None,  # filled in by register_api
            response=("application/json", {"type": "object"}),
            errors=(405,),
            needs_model=False,
        ),
        Op(
            "get",
            "/models",
            "listModels",
            "The served models, their maps and atlas metrics",
            h_models,
            response=(
                "application/json",
                {
                    "type": "object",
                    "required": ["models"],
                    "properties": {"models": {"type": "array", "items": MODEL_INFO}},
                },
            ),
            errors=(405,),
            needs_model=False,
        ),
        Op(
            "post",
            "/models/{model}/decode",
            "decode",
            "Latent vectors -> images",
            h_decode,
            description=(
                f"Up to {MAX_VECTORS} vectors in one batched forward pass. `format` png (default): "
                "PNG data URIs at the model's resolution (`scale` enlarges them, nearest neighbour); "
                "array: pixel arrays [C, H, W] in [0, 1] (rounded to 5 decimals)."
            ),
            example={"latents": [z0], "format": "png"},
            params=[model],
            body={
                "application/json": {
                    "type": "object",
                    "required": ["latents"],
                    "additionalProperties": False,
                    "properties": {
                        "latents": LATENTS,
                        "format": {"type": "string", "enum": ["png", "array"]},
                        "scale": {"type": "integer", "minimum": 1, "maximum": MAX_SCALE},
                    },
                }
            },
            response=(
                "application/json",
                {
                    "type": "object",
                    "required": ["images", "format", "image_shape"],
                    "properties": {
                        "format": {"type": "string", "enum": ["png", "array"]},
                        "image_shape": {"type": "array", "items": {"type": "integer"}},
                        "images": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "array"}]}},
                    },
                },
            ),
            errors=(400, 404, 405, 413, 415, 422),
        ),
        Op(
            "post",
            "/models/{model}/encode",
            "encode",
            "An image (upload or pixel array) -> latent vector and coordinates on every map",
            h_encode,
            description=(
                "multipart/form-data: field `image`, a PNG, JPEG or WebP file of any size and colour "
                f"mode (at most {mb} and {uploads.MAX_PIXELS // 1_000_000} megapixels), converted to the "
                "model's channels and size (padded to its aspect ratio, never stretched), and optional "
                '`invert` (true: a dark object on a light background). Or JSON `{"pixels": ...}` at the '
                "model's size, values in [0, 1], one image or a batch. Nothing is written to disk. "
                "Latent maps place the latent; pixel maps place the image by its pixels."
            ),
            params=[model],
            body={
                "multipart/form-data": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {"type": "string", "format": "binary"},
                        "invert": {"type": "boolean"},
                    },
                },
                "application/json": {
                    "type": "object",
                    "required": ["pixels"],
                    "additionalProperties": False,
                    "properties": {"pixels": PIXELS, "invert": {"type": "boolean"}},
                },
            },
            response=(
                "application/json",
                {
                    "type": "object",
                    "required": ["latents", "coords"],
                    "properties": {
                        "latents": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                        "coords": COORDS,
                        "input": {"type": "array", "items": {"type": "string"}, "description": "what the model saw"},
                        "reconstructions": {"type": "array", "items": {"type": "string"}},
                        "recon_error": {"type": "array", "items": {"type": "number"}, "description": "pixel MSE"},
                    },
                },
            ),
            errors=(400, 404, 405, 413, 415, 422),
        ),
        Op(
            "post",
            "/models/{model}/project",
            "project",
            "Latent vectors -> coordinates on one map or on every map",
            h_project,
            description="PCA maps: exact; t-SNE / UMAP / pixel maps: weighted mean of the 8 nearest codes' positions.",
            example={"latents": [z0], "map": first.map_names[0]},
            params=[model],
            body={
                "application/json": {
                    "type": "object",
                    "required": ["latents"],
                    "additionalProperties": False,
                    "properties": {"latents": LATENTS, "map": MAP_NAME},
                }
            },
            response=("application/json", {"type": "object", "required": ["coords"], "properties": {"coords": COORDS}}),
            errors=(400, 404, 405, 413, 415, 422),
        ),
        Op(
            "post",
            "/models/{model}/unproject",
            "unproject",
            "Positions on a 2-D map -> latent vectors",
            h_unproject,
            description=(
                "`exact` is true on latent PCA maps (the point of the PCA plane at that position; "
                "projecting it returns the position) and on latent-raw-2d; elsewhere the latent is "
                "estimated: the weighted mean of the 8 nearest map points' codes."
            ),
            example={"map": flat[0], "coords": [[0.0, 0.0]]},
            params=[model],
            body={
                "application/json": {
                    "type": "object",
                    "required": ["map", "coords"],
                    "additionalProperties": False,
                    "properties": {
                        "map": MAP_NAME,
                        "coords": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_VECTORS,
                            "items": {"type": "array", "items": NUMBER, "minItems": 2, "maxItems": 2},
                            "description": "[x, y] positions",
                        },
                    },
                }
            },
            response=(
                "application/json",
                {
                    "type": "object",
                    "required": ["latents", "exact", "method"],
                    "properties": {
                        "latents": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                        "exact": {"type": "boolean"},
                        "method": {"type": "string", "enum": ["pca-plane", "identity", "nearest-points"]},
                    },
                },
            ),
            errors=(400, 404, 405, 413, 415, 422),
        ),
        Op(
            "get",
            "/models/{model}/neighbours",
            "neighbours",
            "The k nearest atlas items (latent space, Euclidean) to an item or a latent vector",
            h_neighbours,
            description="Pass exactly one of `index` and `latent`.",
            params=[
                model,
                Param("index", "query", {"type": "integer", "minimum": 0, "example": 0}, "an atlas item (0..n-1)"),
                Param("latent", "query", VECTOR, "a latent vector, comma-separated"),
                Param("k", "query", {"type": "integer", "minimum": 1, "maximum": MAX_K}, "how many (default 8)"),
            ],
            response=(
                "application/json",
                {
                    "type": "object",
                    "required": ["neighbours"],
                    "properties": {
                        "neighbours": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["index", "distance", "label", "class_name"],
                                "properties": {
                                    "index": {"type": "integer"},
                                    "distance": {"type": "number"},
                                    "label": {"type": "integer", "description": "-1 when unlabelled"},
                                    "class_name": {"type": "string"},
                                },
                            },
                        }
                    },
                },
            ),
            errors=(400, 404, 405, 422),
        ),
        Op(
            "get",
            "/models/{model}/atlas.csv",
            "atlasCsv",
            "The whole atlas as CSV (streamed)",
            h_atlas_csv,
            description=(
                "Columns: index, dataset_row, label, class_name, split, z0..z{d-1}, {map}_x/_y(/_z) for "
                "every map, recon_error. Sent as an attachment named <model>.<dataset>.atlas.csv."
            ),
            params=[model],
            response=("text/csv", {"type": "string"}),
            errors=(404, 405),
        ),
        *_extras_ops(model, flat, z0),
    ]


# ---------------------------------------------------------------------------------- extras (issue 11)
_NUM_OR_NULL = {"type": "number", "nullable": True}
_PLAUS = {
    "type": "object",
    "required": ["distance", "nearest", "percentile", "verdict", "log_prior_nats"],
    "properties": {
        "distance": {"type": "number"},
        "nearest": {"type": "integer"},
        "percentile": {"type": "number", "minimum": 0, "maximum": 100},
        "verdict": {"type": "string", "enum": ["typical", "unusual", "off the data"]},
        "log_prior_nats": _NUM_OR_NULL,
    },
}


def _extras_ops(model, flat, z0) -> list:
    """Plausibility, semantic regions, topology and fit diagnosis (latentdash/atlas/extras.py)."""
    return [
        Op(
            "post",
            "/models/{model}/plausibility",
            "plausibility",
            "How far latent vectors are from the data: nearest-neighbour percentile, verdict, prior log-density",
            h_plausibility,
            description=(
                "Per vector: the distance to the nearest data latent, as a percentile of the data's own "
                "nearest-neighbour distances; verdict typical (<= 95), unusual (<= 99) or off the data; "
                "log_prior_nats: log N(z; 0, I) for a VAE, else null."
            ),
            example={"latents": [z0]},
            params=[model],
            body={
                "application/json": {
                    "type": "object",
                    "required": ["latents"],
                    "additionalProperties": False,
                    "properties": {"latents": LATENTS},
                }
            },
            response=(
                "application/json",
                {
                    "type": "object",
                    "required": ["results"],
                    "properties": {"results": {"type": "array", "items": _PLAUS}},
                },
            ),
            errors=(400, 404, 405, 413, 415, 422),
        ),
        Op(
            "get",
            "/models/{model}/regions",
            "regions",
            "Semantic regions of a 2-D map: HDBSCAN clusters with centre, size, majority class and purity",
            h_regions,
            params=[model, Param("map", "query", dict(MAP_NAME, example=flat[0]), "a 2-D map of this atlas", True)],
            response=(
                "application/json",
                {
                    "type": "object",
                    "required": ["map", "params", "n_clusters", "clusters"],
                    "properties": {
                        "map": {"type": "string"},
                        "params": {"type": "object"},
                        "n_clusters": {"type": "integer"},
                        "clusters": {"type": "array", "items": {"type": "object"}},
                    },
                },
            ),
            errors=(400, 404, 405, 422),
        ),
        Op(
            "get",
            "/models/{model}/topology",
            "topology",
            "Persistent homology (H0, H1) of the latent codes on maxmin landmarks, with a one-line reading",
            h_topology,
            params=[model],
            response=(
                "application/json",
                {
                    "type": "object",
                    "required": ["components", "loops", "threshold", "reading", "h0", "h1", "params"],
                    "properties": {
                        "components": {"type": "integer"},
                        "loops": {"type": "integer"},
                        "threshold": {"type": "number"},
                        "reading": {"type": "string"},
                        "h0": {"type": "array", "items": {"type": "array", "items": _NUM_OR_NULL}},
                        "h1": {"type": "array", "items": {"type": "array", "items": _NUM_OR_NULL}},
                        "params": {"type": "object"},
                    },
                },
            ),
            errors=(404, 405, 422),
        ),
        Op(
            "get",
            "/models/{model}/fit",
            "fit",
            "Fit diagnosis: reconstruction-error histograms of train vs test, the gap and its reading",
            h_fit,
            params=[model],
            response=(
                "application/json",
                {
                    "type": "object",
                    "required": ["available", "reading"],
                    "properties": {"available": {"type": "boolean"}, "reading": {"type": "string"}},
                },
            ),
            errors=(404, 405, 422),
        ),
    ]


def h_plausibility(ctx, view, q, body):
    z = body["latents"]
    d = view.explorer.latent_dim
    if any(len(v) != d for v in z):
        bad = next(len(v) for v in z if len(v) != d)
        raise ApiError(422, f"a latent vector has {bad} numbers but {view.name} has latent_dim {d}; send {d} each")
    r = view.explorer.plausibility(np.asarray(z, np.float64).reshape(len(z), d))
    if isinstance(r.get("distance"), float):  # one vector
        r = {k: [v] for k, v in r.items()}
    keys = ("distance", "nearest", "percentile", "verdict", "log_prior_nats")
    lp = r.get("log_prior_nats")
    n = len(r["distance"])
    return {
        "results": [
            {k: (lp[i] if lp is not None else None) if k == "log_prior_nats" else r[k][i] for k in keys}
            for i in range(n)
        ]
    }


def h_regions(ctx, view, q, body):
    if "map" not in q:
        raise ApiError(400, "pass ?map=NAME, a 2-D map of this atlas (GET /models lists them)")
    name = q["map"]
    return _finite(dict(view.explorer.regions(name), map=name))


def h_topology(ctx, view, q, body):
    return _finite(view.explorer.topology())


def h_fit(ctx, view, q, body):
    return _finite(view.explorer.fit())


# ---------------------------------------------------------------------------------- handlers
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


def _model_info(view) -> dict:
    ex = view.explorer
    return {
        "name": view.name,
        "kind": view.kind,
        "latent_dim": view.d,
        "image_shape": list(view.image_shape),
        "n": view.n,
        "has_encoder": bool(view.has_encoder),
        "dataset": str((ex.atlas.meta or {}).get("dataset_id") or ""),
        "class_names": [str(c) for c in (ex.class_names or [])],
        "maps": list(view.map_names),
        "map_dims": {m: int(ex.coords(m).shape[1]) for m in view.map_names},
        "metrics": _finite(ex.metrics or {}),
    }


def h_models(ctx, view, q, body):
    return {"models": [_model_info(v) for v in ctx.catalog.views.values()]}


def png_data_uris(x: np.ndarray, scale: int = 1) -> list[str]:
    """float [n, C, H, W] in [0, 1] -> PNG data URIs, converted to uint8 in one pass."""
    u8 = np.clip(np.nan_to_num(x, nan=0.0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    u8 = u8[:, 0] if u8.shape[1] == 1 else u8.transpose(0, 2, 3, 1)
    if scale > 1:
        u8 = np.repeat(np.repeat(u8, scale, axis=1), scale, axis=2)
    return [imaging.data_uri(imaging.encode_png(np.ascontiguousarray(im))) for im in u8]


def h_decode(ctx, view, q, body):
    x = view.explorer.decode(body["latents"])  # one batched forward pass (inference mode)
    fmt = body.get("format", "png")
    out = {"format": fmt, "image_shape": list(view.image_shape)}
    if fmt == "array":
        out["images"] = np.round(np.clip(np.nan_to_num(x, nan=0.0), 0.0, 1.0), 5).tolist()
    else:
        out["images"] = png_data_uris(x, int(body.get("scale", 1)))
    return out


def _all_coords(ex, z, images=None) -> dict:
    coords = {}
    for m in ex.map_names:
        if images is not None and m.startswith("pixel-"):
            coords[m] = ex.project_pixels(images, m)
        else:
            coords[m] = ex.project(z, m)
    return {m: np.asarray(c, np.float64).round(6).tolist() for m, c in coords.items()}


def _parse_bool(v: str, name: str) -> bool:
    s = str(v).strip().lower()
    if s == "true":
        return True
    if s == "false":
        return False
    raise ApiError(400, f"{name} is {v!r}; use true or false")


def h_encode(ctx, view, q, body):
    ex = view.explorer
    if not view.has_encoder:
        raise ApiError(422, f"{view.name} is a generator without an encoder; it cannot encode images")
    if isinstance(body, _Upload):
        x = uploads.image_from_bytes(body.data, view.image_shape, invert=body.invert, background=ctx.background(view))[
            None
        ]
    else:
        x = uploads.images_from_array(body["pixels"], view.image_shape, invert=bool(body.get("invert", False)))
    z = ex.encode(x)
    recon = ex.decode(z)
    err = ((recon - x) ** 2).reshape(len(x), -1).mean(1)
    return {
        "latents": np.asarray(z, np.float64).round(6).tolist(),
        "coords": _all_coords(ex, z, images=x),
        "input": png_data_uris(x),
        "reconstructions": png_data_uris(recon),
        "recon_error": [float(e) for e in err],
    }


def _check_map(ex, name):
    if name not in ex.map_names:
        raise ApiError(422, f"no map named {name!r} in this atlas; use one of {', '.join(ex.map_names)}")
    return name


def h_project(ctx, view, q, body):
    ex = view.explorer
    z = body["latents"]  # the Explorer checks length and finiteness (a 422 naming the model's size)
    if "map" in body:
        m = _check_map(ex, body["map"])
        return {"coords": {m: np.asarray(ex.project(z, m), np.float64).round(6).tolist()}}
    return {"coords": _all_coords(ex, z)}


def h_unproject(ctx, view, q, body):
    ex = view.explorer
    m = _check_map(ex, body["map"])
    if ex.coords(m).shape[1] != 2:
        raise ApiError(422, f"unproject works on 2-D maps and {m} is 3-D; use {m[:-2]}2d")
    space, method, _ = parse_map_name(m)
    zs = np.stack([ex.unproject(xy, m) for xy in body["coords"]])
    exact = space == "latent" and method in ("pca", "raw")
    kind = "identity" if method == "raw" and space == "latent" else ("pca-plane" if exact else "nearest-points")
    return {"latents": np.asarray(zs, np.float64).round(6).tolist(), "exact": exact, "method": kind}


def h_neighbours(ctx, view, q, body):
    ex = view.explorer
    has_i, has_z = "index" in q, "latent" in q
    if has_i == has_z:
        raise ApiError(422, "pass exactly one of ?index=I (an atlas item) or ?latent=a,b,... (a latent vector)")
    if has_i:
        i = int(q["index"])
        if i >= ex.n:
            raise ApiError(422, f"index {i} is past the atlas; use 0..{ex.n - 1}")
        z = ex.latents[i]
    else:
        z = q["latent"]
    k = int(q.get("k", 8))
    if k > ex.n:
        raise ApiError(422, f"k = {k} but the atlas has {ex.n} items; use k <= {ex.n}")
    idx, dist = ex.neighbours(z, k)
    labels = ex.labels
    out = []
    for j, d in zip(idx.tolist(), dist.tolist()):
        lab = int(labels[j]) if labels is not None else -1
        out.append({"index": j, "distance": float(d), "label": lab, "class_name": ex.label_name(j)})
    return {"neighbours": out}


def h_atlas_csv(ctx, view, q, body):
    ex = view.explorer
    resp = Response(exports.atlas_csv(ex), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="{exports.csv_filename(ex)}"'
    return resp


# ---------------------------------------------------------------------------------- request parsing
@dataclass
class _Upload:
    data: bytes
    invert: bool


def _parse_query(op: Op) -> dict:
    out = {}
    for p in op.params:
        if p.where != "query" or p.name not in request.args:
            continue
        raw = request.args.get(p.name)
        t = p.schema.get("type")
        try:
            if t == "integer":
                v = int(raw)
            elif t == "array":
                v = [float(s) for s in raw.split(",")] if raw.strip() else []
            else:
                v = raw
        except ValueError:
            what = "an integer" if t == "integer" else "comma-separated numbers"
            raise ApiError(400, f"query parameter {p.name}={_short(raw)} must be {what}") from None
        if t == "array" and not all(math.isfinite(x) for x in v):
            raise ApiError(400, f"query parameter {p.name} contains NaN or infinite values; pass finite numbers")
        validate(v, p.schema, f"query parameter {p.name}")
        out[p.name] = v
    return out


def _bytes_io(total_content_length=None, content_type=None, filename=None, content_length=None):
    return io.BytesIO()  # uploads stay in memory: never a temporary file on disk


def _parse_body(op: Op, limit: int):
    if op.body is None:
        return None
    types = list(op.body)
    mt = request.mimetype
    if mt not in op.body:
        raise ApiError(
            415,
            f"Content-Type {mt or '(none)'} is not accepted here; send {' or '.join(types)}",
        )
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(
            413,
            f"the request body is {request.content_length / 2**20:.1f} MB; the limit is {limit / 2**20:g} MB "
            "(LATENTDASH_MAX_UPLOAD_MB): send a smaller image or fewer vectors",
        )
    request.max_content_length = limit  # a body without Content-Length is cut off here too
    if mt == "multipart/form-data":
        parser = FormDataParser(
            stream_factory=_bytes_io, max_form_memory_size=MAX_FORM_FIELD, max_content_length=limit, silent=False
        )
        try:
            _, form, files = parser.parse(request.stream, mt, request.content_length, request.mimetype_params)
        except HTTPException:
            raise
        except ValueError as e:
            raise ApiError(
                400, f"the multipart body is malformed ({e}); send a form with a file field 'image'"
            ) from None
        f = files.get("image")
        if f is None:
            if "image" in form:
                raise ApiError(400, "the field 'image' must be a file upload (multipart file part), not text")
            raise ApiError(400, "the form has no file field 'image'; upload the image as image=@FILE")
        return _Upload(f.read(), _parse_bool(form.get("invert", "false"), "invert"))
    data = request.get_data(cache=False)
    if not data.strip():
        raise ApiError(400, "the request body is empty; send a JSON object (see GET /api/v1/openapi.json)")
    try:
        body = json.loads(data, parse_constant=_no_constant)
    except ApiError:
        raise
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, f"the body is not valid JSON ({e}); send a JSON object") from None
    validate(body, op.body[mt], "body")
    return body


# ---------------------------------------------------------------------------------- wiring
class _Context:
    def __init__(self, catalog, limit: int):
        self.catalog = catalog
        self.limit = limit
        self._backgrounds: dict = {}

    def background(self, view) -> float:
        if view.name not in self._backgrounds:
            self._backgrounds[view.name] = uploads.background_of(view.explorer.atlas.thumbnails)
        return self._backgrounds[view.name]


def _json(payload, status: int = 200) -> Response:
    return Response(
        json.dumps(payload, separators=(",", ":"), allow_nan=False), status=status, mimetype="application/json"
    )


def error_response(status: int, message: str, headers=None) -> Response:
    resp = _json({"error": " ".join(str(message).split())}, status)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


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


def register_api(server, catalog, config=None, prefix: str = "/") -> str:
    """Mount the API at `{prefix}api/v1` on the Flask `server`; returns that base path."""
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    base = f"{prefix}api/v1"
    max_mb = float(getattr(config, "max_upload_mb", 5.0) if config is not None else 5.0)
    limit = int(max_mb * 1024 * 1024)
    ctx = _Context(catalog, limit)
    ops = operations(catalog, max_mb)
    doc = openapi_document(ops, base)
    ops[0].handler = lambda ctx, view, q, body: doc
    bp = Blueprint(f"latentdash_api_{id(server)}", __name__)

    def make_view(op: Op):
        def view(**path):
            try:
                v = None
                if op.needs_model:
                    v = catalog.get(path.get("model"))
                    if v is None:
                        raise ApiError(
                            404, f"no model named {path.get('model')!r}; the models are {', '.join(catalog.names)}"
                        )
                q = _parse_query(op)
                body = _parse_body(op, limit)
                result = op.handler(ctx, v, q, body)
            except ApiError as e:
                return error_response(e.status, e.message)
            except uploads.UnsupportedImage as e:
                return error_response(415, str(e))
            except uploads.ImageTooLarge as e:
                return error_response(413, str(e))
            except LatentdashError as e:  # the Explorer's one-line refusals: the input doesn't fit the model
                return error_response(422, str(e))
            return result if isinstance(result, Response) else _json(result)

        view.__name__ = f"api_{op.op_id}"
        return view

    for op in ops:
        bp.add_url_rule(
            op.flask_path, op.op_id, make_view(op), methods=[op.method.upper()], provide_automatic_options=False
        )
    # Anything else under the API: JSON 404, or 405 where the path exists with another method
    # (without this, the page's catch-all route would answer with its HTML).
    patterns = [(re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(op.path)) + "$"), op) for op in ops]

    def unknown(rest=""):
        path = "/" + rest
        allowed = sorted({m for rx, op in patterns if rx.match(path) for m in _methods(op)})
        if allowed and request.method == "OPTIONS":
            return Response(status=204, headers={"Allow": ", ".join(allowed)})
        if allowed:
            return error_response(
                405,
                f"{request.method} is not allowed on {request.path}; use {', '.join(allowed)}",
                {"Allow": ", ".join(allowed)},
            )
        return error_response(404, f"no such API path {request.path}; see GET {base}/openapi.json")

    every = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]
    bp.add_url_rule("", "unknown_base", unknown, methods=every, provide_automatic_options=False)
    bp.add_url_rule("/", "unknown_root", unknown, methods=every, provide_automatic_options=False)
    bp.add_url_rule("/<path:rest>", "unknown", unknown, methods=every, provide_automatic_options=False)
    server.register_blueprint(bp, url_prefix=base)

    def http_error(e: HTTPException):
        """HTTP errors under the API (unknown path, wrong method, body too large) as JSON; the rest
        of the app keeps Werkzeug's responses."""
        p = request.path
        if not (p == base or p.startswith(base + "/")):
            return e
        headers = {}
        if e.code == 405 and getattr(e, "valid_methods", None):
            headers["Allow"] = ", ".join(e.valid_methods)
        msg = {
            404: f"no such API path {p}; see GET {base}/openapi.json",
            405: f"{request.method} is not allowed on {p}; use {headers.get('Allow', 'another method')}",
            413: f"the request body is over the {max_mb:g} MB limit (LATENTDASH_MAX_UPLOAD_MB); send less",
        }.get(e.code, f"{e.name}: {e.description}")
        return error_response(e.code or 400, msg, headers)

    server.register_error_handler(HTTPException, http_error)
    return base
