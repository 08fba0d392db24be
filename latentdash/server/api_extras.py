"""The REST API's operations for issue 11's computations (service.Explorer: plausibility, regions,
topology, fit): their declarations (`extras_ops`, added to `api.operations()`) and handlers."""

from __future__ import annotations

import numpy as np

from .api_schema import LATENTS, MAP_NAME, ApiError, Op, Param, _finite

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


def extras_ops(model, flat, z0) -> list:
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
