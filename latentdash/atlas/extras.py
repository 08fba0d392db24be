"""Atlas extras: what is computed from an atlas beyond its maps, stored next to it.

One artifact per atlas, `<atlas stem>.extras-v1.npz` (for a cached atlas `<key>.extras-v1.npz` in
the cache folder; for a shipped one next to it in latentdash/shipped/), written like the atlas
(`store.write_artifact`: checksummed, atomic) with `kind: "extras"` and the atlas key in its
metadata; it is used only for the atlas of that key. The atlas file itself is never changed.

Parts (`PARTS`):
- `plausibility`: the reference latents of latentdash/plausibility.py and each one's distance to
  its nearest other one (`nn_dist`). For a VAE with a posterior (`model.posterior(x) -> (mu,
  logvar)`) the reference is one posterior sample per item, mu + sigma * eps (seeded: `reference`),
  because the decoder was trained on those, not on the means: the shipped VAE-16 uses 8 of its 16
  dimensions (the other 8 have mean ~0, spread 0.04, posterior ~ the prior), so its means fill a
  thin 8-D slab and a prior sample at temperature 1 lies ~2.8 away from every mean (99 % "off the
  data"), while among the posterior samples 89 % of them are "typical" and 0 % at temperature 3.
  Other models (and a VAE at start-up without an extras file) use the atlas latents themselves;
- `fit`: the reconstruction-error histograms of the train and test split and the gap (fit.py),
  with the split of every row (`split`: 0 train, 1 test) when the dataset has one;
- `regions`: HDBSCAN clusters of every 2-D map (regions.py);
- `topology`: H0/H1 persistence on maxmin landmarks (topology.py).

`latentdash precompute` computes all four (`ensure_extras`). An Explorer whose atlas has no
extras file (`extras_for`):
- up to SMALL_N = 3,000 latents: computes all four (about 2-3 s for 2,000, most of it ripser)
  and writes them next to the atlas (or into the cache), so the next start finds them;
- above that, in memory and only the quick parts: plausibility (exact for up to 20,000 latents,
  0.5-1.7 s for 10k on 2 busy cores; above that estimated from a seeded sample of 5,000 rows;
  the atlas latents as reference, no posterior pass) and fit. For the 10k atlas all four parts
  take 12-18 s (posterior samples 4-6 s, HDBSCAN 0.6-2 s per 2-D map x 6, ripser 3-6 s), too
  long for a start: regions and topology are skipped with one log line that says how to add them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import LatentdashError
from . import fit as fitmod
from .store import CorruptArtifact, atlas_dir, read_artifact, write_artifact

log = logging.getLogger(__name__)

EXTRAS_VERSION = 1
SUFFIX = f".extras-v{EXTRAS_VERSION}.npz"
KIND = "extras"
PARTS = ("plausibility", "fit", "regions", "topology")
QUICK_PARTS = ("plausibility", "fit")
SMALL_N = 3_000  # at start-up, atlases up to this size get every part (and it is written)
EXACT_NN_MAX = 20_000  # at start-up, exact nearest-neighbour distances up to this many latents
NN_SAMPLE = 5_000  # else a seeded sample of this many rows


@dataclass
class Extras:
    atlas_key: str
    meta: dict = field(default_factory=dict)
    nn_dist: np.ndarray | None = None  # float32 [N] (or [sample]: meta["plausibility"]["exact"])
    reference: np.ndarray | None = None  # float32 [N, d] posterior samples (VAE), None: the atlas latents
    split: np.ndarray | None = None  # int8 [N]: 0 train, 1 test; None without a split
    region_labels: dict = field(default_factory=dict)  # map name -> int32 [N], -1 = noise
    regions: dict = field(default_factory=dict)  # map name -> summary (regions.find_regions)
    topology: dict | None = None  # {"h0", "h1", "landmarks", "summary"}
    fit: dict | None = None
    path: Path | None = None

    @property
    def parts(self) -> list[str]:
        return list(self.meta.get("parts", []))


# ----------------------------------------------------------------------------- where
def extras_name(atlas) -> str:
    if atlas.path is not None and str(atlas.path).endswith(".atlas.npz"):
        return Path(atlas.path).name[: -len(".atlas.npz")] + SUFFIX
    return f"{atlas.key}{SUFFIX}"


def candidate_paths(atlas, cache_dir=None) -> list[Path]:
    """Next to the atlas file first, then in the cache under the atlas key."""
    out = []
    if atlas.path is not None:
        out.append(Path(atlas.path).with_name(extras_name(atlas)))
    out.append(atlas_dir(cache_dir) / f"{atlas.key}{SUFFIX}")
    return list(dict.fromkeys(out))


# ----------------------------------------------------------------------------- compute
def n_train_of(atlas, dataset=None) -> int:
    """Rows of the official train split: the dataset's own, or known for the builtin ids."""
    if dataset is not None:
        return int(getattr(dataset, "n_train", 0) or 0)
    return int(fitmod.KNOWN_TRAIN_ROWS.get(atlas.meta.get("dataset_id"), 0))


def trained_on_split(model, atlas) -> bool | None:
    """Whether the checkpoint says it was trained on this dataset's train split (None: unknown)."""
    ds = ((getattr(model, "info", None) or {}).get("dataset")) if model is not None else None
    if not isinstance(ds, dict) or "id" not in ds:
        return None
    return ds.get("id") == atlas.meta.get("dataset_id") and bool(ds.get("n_train"))


def nn_distances(latents: np.ndarray, exact_max: int | None = None, sample: int = NN_SAMPLE, seed: int = 0):
    """(distances float32, exact: bool): every latent's distance to its nearest other latent
    (torch brute force, atlas/knn.py), or those of a seeded sample of rows above exact_max."""
    from .knn import knn_graph, knn_query

    n = len(latents)
    if n < 2:
        raise LatentdashError("plausibility needs an atlas of at least 2 latents")
    if exact_max is None or n <= exact_max:
        _, d = knn_graph(latents, 1)
        return d[:, 0].astype(np.float32), True
    rows = np.sort(np.random.default_rng(seed).choice(n, min(sample, n), replace=False))
    _, d = knn_query(latents[rows], latents, 2)  # itself (or a duplicate) at 0, then the nearest other
    return d[:, 1].astype(np.float32), False


def posterior_reference(atlas, model, seed: int = 0, batch: int = 2048) -> np.ndarray | None:
    """One posterior sample per item (mu + exp(logvar / 2) * eps, seeded) for a VAE that exposes
    `posterior`, else None."""
    post = getattr(model, "posterior", None) if model is not None else None
    if getattr(model, "kind", None) != "vae" or not callable(post) or atlas.meta.get("source") != "dataset":
        return None
    rng = np.random.default_rng(seed)
    out = np.empty(atlas.latents.shape, np.float32)
    for s in range(0, atlas.n, batch):
        r = post(atlas.thumbnails[s : s + batch].astype(np.float32) / 255.0)
        if r is None:
            return None
        mu, logvar = (np.asarray(v, np.float64) for v in r)
        out[s : s + batch] = mu + np.exp(0.5 * logvar) * rng.standard_normal(mu.shape)
    return out


def compute_extras(
    atlas, parts=PARTS, n_train: int = 0, trained: bool | None = None, exact_max=None, progress=None, model=None
):
    """Compute the given parts for an atlas (in memory; `save_extras` writes them). `model`: for a
    VAE's posterior-sample reference (plausibility); without it the atlas latents are the reference."""
    from .progress import Progress

    prog = progress if isinstance(progress, Progress) else Progress(progress or False)
    seed = int((atlas.meta.get("params") or {}).get("seed", 0))
    ex = Extras(atlas.key, meta={"parts": [], "params": {}, "timings_s": {}})
    t = time.perf_counter
    if "plausibility" in parts:
        t0 = t()
        with prog.stage("extras: nn dist", 2, "step") as tick:
            ex.reference = posterior_reference(atlas, model, seed)
            tick(1)
            ref = atlas.latents if ex.reference is None else ex.reference
            ex.nn_dist, exact = nn_distances(ref, exact_max, seed=seed)
            tick(1)
        ex.meta["plausibility"] = {
            "reference": "the atlas latents"
            if ex.reference is None
            else f"one posterior sample per item (seed {seed})",
            "exact": exact,
            "n_reference": int(len(ex.nn_dist)),
            "median_nn": float(np.median(ex.nn_dist)),
            "thresholds": {"typical_max_percentile": 95.0, "unusual_max_percentile": 99.0},
        }
        ex.meta["timings_s"]["plausibility"] = round(t() - t0, 3)
    if "fit" in parts:
        t0 = t()
        ex.split = fitmod.split_of(atlas.n, n_train, atlas.index)
        err = atlas.recon_error if atlas.meta.get("source", "dataset") == "dataset" else np.zeros(atlas.n)
        ex.fit = fitmod.fit_diagnosis(err, ex.split, trained)
        ex.meta["fit"] = ex.fit
        ex.meta["params"]["fit"] = {"n_train": int(n_train)}
        ex.meta["timings_s"]["fit"] = round(t() - t0, 3)
    if "regions" in parts:
        from .regions import find_regions

        names = [k for k, c in atlas.maps.items() if c.shape[1] == 2]
        with prog.stage("extras: regions", len(names), "map") as tick:
            for name in names:
                t0 = t()
                lab, summary = find_regions(atlas.maps[name], atlas.labels, atlas.class_names, seed=seed)
                summary["seconds"] = round(t() - t0, 3)
                ex.region_labels[name], ex.regions[name] = lab, summary
                ex.meta["timings_s"][f"regions {name}"] = summary["seconds"]
                tick(1)
        ex.meta["regions"] = ex.regions
    if "topology" in parts:
        from .topology import persistence

        t0 = t()
        with prog.stage("extras: topology", 1, "step") as tick:
            ex.topology = persistence(atlas.latents, seed=seed)
            tick(1)
        ex.meta["topology"] = ex.topology["summary"]
        ex.meta["timings_s"]["topology"] = round(t() - t0, 3)
    ex.meta["parts"] = [p for p in PARTS if p in parts]
    return ex


# ----------------------------------------------------------------------------- storage
def _key(atlas_key: str, meta: dict) -> str:
    ident = {"atlas_key": atlas_key, "v": EXTRAS_VERSION, "parts": meta.get("parts"), "params": meta.get("params")}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:32]


def save_extras(ex: Extras, path, compress: bool = True) -> Path:
    arrays = {}
    if ex.nn_dist is not None:
        arrays["nn_dist"] = np.asarray(ex.nn_dist, np.float32)
    if ex.reference is not None:
        arrays["reference"] = np.asarray(ex.reference, np.float32)
    if ex.split is not None:
        arrays["split"] = np.asarray(ex.split, np.int8)
    for name, lab in ex.region_labels.items():
        arrays[f"regions/{name}"] = np.asarray(lab, np.int32)
    if ex.topology is not None:
        for k in ("h0", "h1", "landmarks"):
            arrays[f"topology/{k}"] = ex.topology[k]
    meta = dict(ex.meta, kind=KIND, extras_version=EXTRAS_VERSION, atlas_key=ex.atlas_key)
    meta["key"] = _key(ex.atlas_key, meta)
    ex.meta = write_artifact(Path(path), arrays, meta, compress=compress)
    ex.path = Path(path)
    return ex.path


def read_extras(path, atlas_key: str | None = None) -> Extras:
    """Load an extras file; CorruptArtifact when damaged, LatentdashError when it belongs to
    another atlas or version."""
    meta, arrays = read_artifact(Path(path))
    if meta.get("kind") != KIND:
        raise CorruptArtifact(f"{path} is not an atlas-extras file; delete it and run `latentdash precompute`")
    if int(meta.get("extras_version", 0)) != EXTRAS_VERSION:
        raise LatentdashError(f"{path} is extras version {meta.get('extras_version')}; run `latentdash precompute`")
    if atlas_key is not None and meta.get("atlas_key") != atlas_key:
        raise LatentdashError(f"{path} belongs to atlas {meta.get('atlas_key')}, not {atlas_key}")
    ex = Extras(meta["atlas_key"], meta=meta, path=Path(path))
    ex.nn_dist = arrays.get("nn_dist")
    ex.reference = arrays.get("reference")
    ex.split = arrays.get("split")
    ex.region_labels = {k[8:]: v for k, v in arrays.items() if k.startswith("regions/")}
    ex.regions = dict(meta.get("regions") or {})
    if "topology/h0" in arrays:
        ex.topology = {
            "h0": arrays["topology/h0"],
            "h1": arrays["topology/h1"],
            "landmarks": arrays["topology/landmarks"],
            "summary": meta.get("topology"),
        }
    ex.fit = meta.get("fit")
    return ex


def load_extras(atlas, cache_dir=None) -> Extras | None:
    """The stored extras of this atlas (every part), or None when there are none that fit."""
    for p in candidate_paths(atlas, cache_dir):
        if not p.is_file():
            continue
        try:
            ex = read_extras(p, atlas.key)
        except LatentdashError as e:
            log.warning("atlas extras %s not used: %s", p, e)
            continue
        if set(PARTS) <= set(ex.parts) and (ex.nn_dist is None or len(ex.nn_dist) == atlas.n):
            return ex
    return None


def ensure_extras(atlas, model=None, dataset=None, cache_dir=None, force=False, progress=False) -> tuple[Extras, bool]:
    """(extras, made): the stored extras of the atlas, or all parts computed and written next
    to it (in the cache when the atlas's folder is not writable). For `latentdash precompute`."""
    if not force:
        ex = load_extras(atlas, cache_dir)
        if ex is not None:
            return ex, False
    ex = compute_extras(
        atlas,
        PARTS,
        n_train_of(atlas, dataset),
        trained_on_split(model, atlas),
        exact_max=None,
        progress=progress,
        model=model,
    )
    paths = candidate_paths(atlas, cache_dir)
    try:
        save_extras(ex, paths[0])
    except LatentdashError:
        if len(paths) < 2:
            raise
        save_extras(ex, paths[-1])
    return ex, True


def extras_for(atlas, model=None, cache_dir=None) -> Extras:
    """What an Explorer uses: the stored extras; else, for a small atlas, every part computed and
    written now; else the quick parts computed now in memory (see the module docstring)."""
    ex = load_extras(atlas, cache_dir)
    if ex is not None:
        return ex
    t0 = time.perf_counter()
    if atlas.n <= SMALL_N:
        ex = compute_extras(atlas, PARTS, n_train_of(atlas), trained_on_split(model, atlas), model=model)
        for p in candidate_paths(atlas, cache_dir):
            try:
                save_extras(ex, p)
                break
            except LatentdashError as e:
                log.info("atlas extras not written to %s: %s", p, e)
        log.info("atlas %s: extras computed at start (%.1f s)", atlas.key, time.perf_counter() - t0)
        return ex
    ex = compute_extras(atlas, QUICK_PARTS, n_train_of(atlas), trained_on_split(model, atlas), exact_max=EXACT_NN_MAX)
    log.info(
        "atlas %s has no extras file: plausibility and fit computed now (%.1f s); semantic regions and "
        "topology skipped (10-20 s for a 10k atlas): run `latentdash precompute` for this model to add them",
        atlas.key,
        time.perf_counter() - t0,
    )
    return ex


def ship_extras(checkpoint_stem: str, dataset_id: str = "fashion-mnist-test") -> Path:
    """(Re)write the extras of a shipped atlas into latentdash/shipped/ (run after its atlas is
    rebuilt): `python -c "from latentdash.atlas.extras import ship_extras; ship_extras('fashion-vae-16')"`."""
    from ..models import load_model
    from .shipped import CHECKPOINT_DIR, shipped_atlas_path
    from .store import load_atlas

    model = load_model(str(CHECKPOINT_DIR / f"{checkpoint_stem}.pt"))
    atlas = load_atlas(shipped_atlas_path(CHECKPOINT_DIR / f"{checkpoint_stem}.pt", dataset_id))
    ex = compute_extras(atlas, PARTS, 0, trained_on_split(model, atlas), model=model)
    return save_extras(ex, Path(atlas.path).with_name(extras_name(atlas)))
