"""The REST API under `{prefix}api/v1/`: models, decode, encode, project, unproject, neighbours and
the atlas as CSV, next to the page on the same server (docs/api.md).

Everything is declared once, in `operations()`: each operation's method, path, parameters, body
schemas, response schemas and error codes. The Flask routes, the request validation and the
OpenAPI 3.0 document (`GET openapi.json`) are all generated from that list, so they cannot drift.
The declarations' building blocks (limits, schemas, validator, `Op`, the OpenAPI generator) are in
api_schema.py; the operations of the atlas extras (plausibility, regions, topology, fit) in
api_extras.py.

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
from dataclasses import dataclass

import numpy as np
from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser

from .. import exports, imaging, uploads
from ..atlas.params import parse_map_name
from ..errors import LatentdashError
from .api_exports import export_ops
from .api_extras import extras_ops
from .api_schema import (
    COORDS,
    LATENTS,
    MAP_NAME,
    MAX_FORM_FIELD,
    MAX_K,
    MAX_SCALE,
    MAX_VECTORS,
    MODEL_INFO,
    NUMBER,
    PIXELS,
    VECTOR,
    ApiError,
    Op,
    Param,
    _finite,
    _methods,
    _no_constant,
    _short,
    openapi_document,
    validate,
)

log = logging.getLogger(__name__)


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
        *extras_ops(model, flat, z0),
        *export_ops(model, first),
    ]


# ---------------------------------------------------------------------------------- extras (issue 11)


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
            elif t == "number":
                v = float(raw)
            elif t == "array":
                v = [float(s) for s in raw.split(",")] if raw.strip() else []
            else:
                v = raw
        except ValueError:
            what = {"integer": "an integer", "number": "a number"}.get(t, "comma-separated numbers")
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
