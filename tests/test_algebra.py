"""Latent algebra, directly through the pure functions and handlers: on the shipped VAE (its
shipped 10k atlas) the classic attribute vectors do what they say, a traversal row changes its
images steadily, prior samples at temperature 0 are the decoded prior mean; and every bad input
(empty or one-point groups, identical groups, A = B = C, oversized grids, NaN strengths, tampered
links) is a short message with the state unchanged."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latentdash import algebra as alg
from latentdash.errors import LatentdashError
from latentdash.ui import algebra as A
from latentdash.ui import algebra_render as R
from latentdash.ui import events, urlstate
from latentdash.ui.events import reduce
from latentdash.ui.handlers import NO_CHANGE, Env, Reject


@pytest.fixture(scope="module")
def vae():
    """The shipped VAE-16 on the bundled 10k Fashion-MNIST test images, with its shipped atlas."""
    from latentdash.atlas.shipped import DEFAULT_CHECKPOINT
    from latentdash.server.app_factory import load_explorers
    from latentdash.server.config import ServeConfig
    from latentdash.ui.catalog import Catalog

    exs = load_explorers(ServeConfig(checkpoints=(str(DEFAULT_CHECKPOINT),)), progress=False)
    return Catalog(exs)


@pytest.fixture()
def vstate(vae):
    return urlstate.default_state(vae)


def cls(view, name) -> str:
    return A.class_ref(view, name)


def nearest_class(view, z) -> np.ndarray:
    """Majority class of the 5 nearest data codes to each vector of z [n, d]."""
    out = []
    for v in z:
        idx, _ = view.explorer.neighbours(v, 5)
        out.append(np.bincount(view.trace_of[idx], minlength=len(view.trace_names)).argmax())
    return np.asarray(out)


# ----------------------------------------------------------------------------- attribute vectors
def test_sneaker_to_ankle_boot_turns_most_sneakers_into_ankle_boots(vae, vstate):
    view = vae.get(vstate["model"])
    spec = f"{cls(view, 'Sneaker')}>{cls(view, 'Ankle boot')}"
    d = A.direction(view, dict(vstate, dir=spec))
    sneakers = view.class_of_trace[int(cls(view, "Sneaker")[1:])][:300]
    edited = np.stack([alg.apply_direction(view.explorer.latents[i], d.v, 1.0) for i in sneakers])
    # judged on the decoded images: re-encoded, where do they land?
    recoded = view.explorer.encode(view.explorer.decode(edited))
    boot = view.trace_names.index("Ankle boot")
    frac = float(np.mean(nearest_class(view, recoded) == boot))
    before = float(np.mean(nearest_class(view, view.explorer.latents[sneakers]) == boot))
    assert frac >= 0.6 and before <= 0.1, (frac, before)
    # strength 0 leaves the vector alone; -1 moves it the other way (away from boots)
    z = view.explorer.latents[sneakers[0]]
    assert np.allclose(alg.apply_direction(z, d.v, 0.0), z)
    assert np.linalg.norm(alg.apply_direction(z, d.v, -1.0) - d.ends[1]) > np.linalg.norm(z - d.ends[1])


@pytest.mark.parametrize("a,b", [("T-shirt/top", "Shirt"), ("Sandal", "Sneaker")])
def test_the_other_classic_vectors_move_towards_their_target(vae, vstate, a, b):
    view = vae.get(vstate["model"])
    d = A.direction(view, dict(vstate, dir=f"{cls(view, a)}>{cls(view, b)}"))
    src = view.class_of_trace[int(cls(view, a)[1:])][:300]
    target = view.trace_names.index(b)
    edited = np.asarray(view.explorer.latents[src]) + d.v
    frac = float(np.mean(nearest_class(view, edited) == target))
    before = float(np.mean(nearest_class(view, view.explorer.latents[src]) == target))
    assert frac >= before + 0.2, (frac, before)


def test_presets_are_offered_for_the_shipped_data(vae, vstate):
    view = vae.get(vstate["model"])
    labels = [p["label"] for p in A.presets(view)]
    assert labels == ["Sneaker \u2192 Ankle boot", "T-shirt \u2192 Shirt", "Sandal \u2192 Sneaker"]
    res = reduce(vstate, "preset", A.presets(view)[0]["spec"], vae)
    assert res["state"]["dir"] == "c7>c9" and res["url"] == "push"
    assert "dir=c7%3Ec9" in urlstate.serialize(res["state"], vae) or "dir=c7>c9" in urlstate.serialize(
        res["state"], vae
    )


def test_direction_from_two_selections_and_selection_vs_everything(vae, vstate):
    view = vae.get(vstate["model"])
    boots = [int(i) for i in view.class_of_trace[9][:50]]
    s = reduce(vstate, "select", {"idx": boots}, vae)["state"]
    s = reduce(s, "save_group", "boots", vae)["state"]
    assert s["groups"] == {"boots": sorted(boots)}
    s = reduce(s, "direction", {"kind": "groups", "from": "all", "to": "g:boots", "axis": 0}, vae)["state"]
    d = A.direction(view, s)
    assert s["dir"] == "all>g:boots" and d.sizes == (view.n, 50)
    assert np.allclose(d.v, view.explorer.latents[boots].mean(0) - view.explorer.latents[:].mean(0), atol=1e-4)
    # "the selection" vs everything
    s2 = reduce(s, "direction", {"kind": "groups", "from": "all", "to": "sel", "axis": 0}, vae)["state"]
    assert np.allclose(A.direction(view, s2).v, d.v, atol=1e-5)
    # a principal direction and a single dimension: one control, strength in sigmas
    pc = reduce(s, "direction", {"kind": "pc", "from": "all", "to": "sel", "axis": 0}, vae)["state"]
    _, comps, std = view.explorer.latent_pcs
    assert pc["dir"] == "pc0" and np.allclose(A.direction(view, pc).v, comps[0] * std[0], atol=1e-5)
    dim = reduce(s, "direction", {"kind": "dim", "from": "all", "to": "sel", "axis": 3}, vae)["state"]
    v = A.direction(view, dim).v
    assert dim["dir"] == "dim3" and np.count_nonzero(v) == 1 and math.isclose(v[3], view.lat_std[3], rel_tol=1e-5)
    # deleting the group drops the direction that used it
    gone = reduce(s, "drop_group", "boots", vae)["state"]
    assert gone["groups"] is None and gone["dir"] is None


def test_attribute_render_and_the_strength_drag_agree(vae, vstate):
    view = vae.get(vstate["model"])
    s = dict(vstate, dir="c7>c9", strength=1.5)
    r = R.render_attr(s, vae)
    assert r["ok"] and len(r["strip"]) == 5 and [x["s"] for x in r["strip"]] == [-2, -1, 0, 1, 2]
    live = R.live_strength([1.5], {"model": view.name, "v": r["v"]}, s, vae)
    assert live["src"] == r["edit"]  # the drag frame at the committed strength is the committed image
    applied = reduce(s, "attr_apply", 1, vae)
    z_edit = A.edited(view, s)[1]
    assert np.allclose(applied["state"]["z"], z_edit, atol=1e-5) and applied["sliders"] is not None


# ----------------------------------------------------------------------------- arithmetic
def test_arithmetic_of_three_points_and_its_nearest_real_image(vae, vstate):
    view = vae.get(vstate["model"])
    boot, sneaker, sandal = (int(view.class_of_trace[c][0]) for c in (9, 7, 5))
    s = vstate
    for slot, i in (("a", boot), ("b", sneaker), ("c", sandal)):
        s = reduce(s, "click", {"points": [{"customdata": i, "curveNumber": 0}]}, vae)["state"]
        s = reduce(s, "arith_set", slot, vae)["state"]
    assert (s["arA"], s["arB"], s["arC"]) == ({"i": boot}, {"i": sneaker}, {"i": sandal})
    lat = view.explorer.latents
    want = lat[boot] - lat[sneaker] + lat[sandal]
    assert np.allclose(A.arithmetic(view, s), want, atol=1e-5)
    r = R.render_arith(s, vae)
    idx, _ = view.explorer.neighbours(want, 1)
    assert r["nearest"]["i"] == int(idx[0]) and r["result"].startswith("data:image/png")
    loaded = reduce(s, "arith_load", 1, vae)["state"]
    assert np.allclose(loaded["z"], want, atol=1e-5)
    # a slider vector (not a data point) is an operand too, and the link carries it
    moved = reduce(loaded, "arith_set", "c", vae)["state"]
    assert "z" in moved["arC"]
    back, problems = urlstate.parse(urlstate.serialize(moved, vae), vae)
    assert problems == [] and np.allclose(back["arC"]["z"], moved["arC"]["z"], atol=1e-4)


# ----------------------------------------------------------------------------- traversal
def test_a_traversal_row_changes_its_images_monotonically(vae, vstate):
    view = vae.get(vstate["model"])
    s = dict(vstate, ton=True, trows="pcs", tn=3, tcols=9, tk=2.0)
    r = R.render_trav(s, vae)
    assert [row["spec"] for row in r["rows"]] == ["pc0", "pc1", "pc2"]
    assert r["offsets"] == [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0]
    _, unit, sigma = A.row_axis(view, s, "pc0")
    grid = alg.traversal(A.state_z(view, s), unit[None], np.asarray([sigma]), 9, 2.0)[0]
    imgs = view.explorer.decode(grid)
    away = [float(np.abs(x - imgs[0]).mean()) for x in imgs]  # mean change from the row's start
    assert all(b > a for a, b in zip(away, away[1:])), away
    # the centre cell is the current vector; a cell click loads exactly that cell
    assert np.allclose(grid[4], A.state_z(view, s), atol=1e-5)
    loaded = reduce(s, "trav_cell", "pc0|8", vae)["state"]
    assert np.allclose(loaded["z"], grid[8], atol=1e-5)


def test_traversal_scores_kl_and_active_units_on_the_vae(vae, vstate):
    view = vae.get(vstate["model"])
    s = dict(vstate, ton=True, trows="var", tn=8, tcols=9, tk=2.0, tsort=True)
    r = R.render_trav(s, vae)
    scores = [row["score"] for row in r["rows"]]
    assert len(r["rows"]) == 8 and scores == sorted(scores, reverse=True) and scores[0] > 0
    # KL per dimension: the VAE uses only some of its 16 units
    assert len(r["kl"]) == 16 and 0 < r["active"] < 16
    kl = np.asarray(r["kl"])
    inactive = np.flatnonzero(kl <= alg.ACTIVE_KL)
    # the top dims by variance are the active units (the VAE's unused units have codes near 0)
    top = sorted(int(row["spec"][3:]) for row in r["rows"][: r["active"]])
    assert top == sorted(np.flatnonzero(kl > alg.ACTIVE_KL).tolist())
    assert [row["spec"] for row in R.render_trav(dict(s, tsort=False), vae)["rows"]] == [f"dim{j}" for j in top]
    # an inactive unit barely changes the image; an active one does
    moved = {row["spec"]: row["score"] for row in R.render_trav(dict(s, tn=12), vae)["rows"]}
    act = [moved[f"dim{j}"] for j in np.flatnonzero(kl > 0.5) if f"dim{j}" in moved]
    dead = [
        float(
            alg.row_scores(
                view.explorer.decode(
                    alg.traversal(A.state_z(view, s), np.eye(16)[[j]], [view.lat_std[j] + 1e-3], 9, 2.0).reshape(-1, 16)
                ).reshape((1, 9) + view.image_shape),
                2.0,
            )[0]
        )
        for j in inactive[:2]
    ]
    assert act and dead and min(act) > 3 * max(dead), (act, dead)


def test_attribute_rows_of_a_traversal(vae, vstate):
    s = dict(vstate, ton=True, trows="attr", tn=4, tcols=5, tk=1.0, dir="c0>c6")
    rows = R.render_trav(s, vae)["rows"]
    assert [row["spec"] for row in rows][:2] == ["c0>c6", "c7>c9"]  # the chosen one, then the presets
    assert rows[0]["label"] == "T-shirt/top \u2192 Shirt" and all(len(row["cells"]) == 5 for row in rows)


# ----------------------------------------------------------------------------- prior
def test_prior_samples_at_temperature_zero_are_the_decoded_prior_mean(vae, vstate):
    view = vae.get(vstate["model"])
    s = dict(vstate, pon=True, pn=16, pseed=3, ptemp=0.0)
    z = A.prior_samples(view, s)
    assert np.allclose(z, view.prior_mean[None], atol=1e-7) and np.allclose(view.prior_mean, 0)
    r = R.render_prior(s, vae)
    mean_img = R._png(view.explorer.decode(view.prior_mean)[0])
    assert r["samples"] == [mean_img] * 16
    # temperature 1 is the prior itself: same seed, same samples; another seed, other samples
    one = A.prior_samples(view, dict(s, ptemp=1.0))
    assert np.allclose(one, view.explorer.sample_prior(16, 3))
    rolled = reduce(dict(s, ptemp=1.0), "prior_roll", 1, vae)["state"]
    assert rolled["pseed"] == 4 and not np.allclose(A.prior_samples(view, rolled), one)
    loaded = reduce(rolled, "prior_cell", 5, vae)["state"]
    assert np.allclose(loaded["z"], A.prior_samples(view, rolled)[5])


def test_prior_of_a_decoder_only_generator(generator_explorer):
    from latentdash.ui.catalog import Catalog

    cat = Catalog([generator_explorer])
    s = dict(urlstate.default_state(cat), pon=True, pn=16, pseed=0, ptemp=0.5)
    view = cat.get(s["model"])
    assert view.has_prior and view.kl is None
    r = R.render_prior(s, cat)
    assert len(r["samples"]) == 16 and len(set(r["samples"])) > 1


def test_an_autoencoder_has_no_prior_panel(vae, explorers, catalog):
    view = catalog.get("pca-16")
    assert view.has_prior  # the PCA baseline is a Gaussian: it has one
    from latentdash.atlas.shipped import CHECKPOINT_DIR
    from latentdash.server.app_factory import load_explorers
    from latentdash.server.config import ServeConfig
    from latentdash.ui.catalog import Catalog

    ae = Catalog(load_explorers(ServeConfig(checkpoints=(str(CHECKPOINT_DIR / "fashion-ae-16.pt"),)), progress=False))
    s = urlstate.default_state(ae)
    assert R.render_prior(s, ae) == {"on": False, "available": False}
    res = reduce(s, "prior", {"on": True, "n": 16, "seed": 0, "temp": 1.0}, ae)
    assert res["state"] is None and "without a prior" in res["message"]


# ----------------------------------------------------------------------------- gallery and groups
def test_gallery_pages_histogram_and_means(vae, vstate):
    view = vae.get(vstate["model"])
    s = reduce(vstate, "select_class", 9, vae)["state"]
    boots = view.class_of_trace[9]
    assert s["selection"] == [int(i) for i in boots]
    r = R.render_gallery(s, vae)
    assert r["count"] == len(boots) and len(r["items"]) == 64 and r["pages"] == math.ceil(len(boots) / 64)
    assert r["hist"] == [{"name": "Ankle boot", "count": len(boots), "frac": 1.0}]
    nxt = reduce(s, "gal_next", 1, vae)["state"]
    assert nxt["gpage"] == 1 and R.render_gallery(nxt, vae)["items"][0]["i"] == int(boots[64])
    assert reduce(s, "gal_prev", 1, vae)["state"] is None  # already on the first page
    # click a gallery image: it is inspected and loaded into the sliders
    clicked = reduce(nxt, "gallery", int(boots[70]), vae)
    assert clicked["state"]["sel"] == int(boots[70]) and clicked["sliders"] is not None
    # the decoded mean code is the decode of the mean latent
    assert r["decoded_mean"] == R._png(view.explorer.decode(view.explorer.latents[boots].mean(0))[0])


def test_selections_and_groups_survive_model_and_map_changes(vae, vstate):
    s = reduce(vstate, "select", {"idx": [3, 4, 5]}, vae)["state"]
    s = reduce(s, "save_group", "", vae)["state"]
    s = reduce(s, "save_group", "  mine ", vae)["state"]
    assert list(s["groups"]) == ["group 1", "mine"]
    m = reduce(s, "map", {"space": "latent", "method": "pca", "dims": 2}, vae)["state"]
    assert m["selection"] == [3, 4, 5] and m["groups"] == s["groups"]
    back, problems = urlstate.parse(urlstate.serialize(m, vae), vae)
    assert problems == [] and back["groups"] == s["groups"] and back["selection"] == [3, 4, 5]


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "event,value,patch,msg",
    [
        ("direction", {"kind": "groups", "from": "all", "to": "sel", "axis": 0}, {}, "selection is empty"),
        ("direction", {"kind": "groups", "from": "all", "to": "sel", "axis": 0}, {"selection": [5]}, "1 point"),
        ("direction", {"kind": "groups", "from": "c7", "to": "c7", "axis": 0}, {}, "zero length"),
        (
            "direction",
            {"kind": "groups", "from": "sel", "to": "g:x", "axis": 0},
            {"selection": [1, 2], "groups": {"x": [2, 1]}},
            "zero length",
        ),
        ("direction", {"kind": "pc", "axis": 99}, {}, "unknown direction"),
        ("direction", {"kind": "nope"}, {}, "unknown kind"),
        ("strength", float("nan"), {"dir": "c7>c9"}, "finite"),
        ("strength", float("inf"), {"dir": "c7>c9"}, "finite"),
        ("strength", 7.5, {"dir": "c7>c9"}, "outside"),
        ("strength", "1", {"dir": "c7>c9"}, "number"),
        ("attr_apply", 1, {}, "pick a direction"),
        ("arith_load", 1, {"arA": {"i": 1}, "arB": {"i": 1}, "arC": {"i": 1}}, "same vector"),
        ("arith_load", 1, {"arA": {"i": 1}}, "set B"),
        ("arith_set", "d", {}, "unknown operand"),
        ("trav", {"on": True, "rows": "var", "n": 40, "cols": 9, "k": 2.0, "sort": False}, {}, "1 to 12 rows"),
        ("trav", {"on": True, "rows": "var", "n": 8, "cols": 99, "k": 2.0, "sort": False}, {}, "3 to 15 columns"),
        ("trav", {"on": True, "rows": "var", "n": 8, "cols": 9, "k": float("nan"), "sort": False}, {}, "finite"),
        ("trav", {"on": True, "rows": "zzz", "n": 8, "cols": 9, "k": 2.0, "sort": False}, {}, "unknown traversal"),
        ("trav_cell", "dim0|99", {"ton": True}, "out of range"),
        ("trav_cell", "bogus", {"ton": True}, "no column"),
        ("prior", {"on": True, "n": 500, "seed": 0, "temp": 1.0}, {}, "16 to 64"),
        ("prior", {"on": True, "n": 16, "seed": -1, "temp": 1.0}, {}, "seed"),
        ("prior", {"on": True, "n": 16, "seed": 0, "temp": float("inf")}, {}, "finite"),
        ("prior_cell", 99, {"pon": True}, "out of range"),
        ("save_group", "x", {}, "nothing to save"),
        ("save_group", "a<b>", {"selection": [1, 2]}, "group name"),
        ("use_group", "nope", {}, "no group"),
        ("select_class", 42, {}, "unknown class"),
        ("preset", "c7>c77", {}, "unknown direction"),
        ("gallery", -3, {}, "out of range"),
        ("select", {"idx": [1, -4]}, {}, "whole numbers in 0..9999"),
        ("select", {"idx": [1, 2.5]}, {}, "whole numbers in"),
        ("select", {"idx": ["x"]}, {}, "list of whole numbers"),
        ("select", {"idx": [True]}, {}, "list of whole numbers"),
    ],
)
def test_bad_input_is_a_short_message_and_the_state_is_unchanged(vae, vstate, caplog, event, value, patch, msg):
    s = dict(vstate, **patch)
    with caplog.at_level("WARNING", logger="latentdash.ui.events"):
        res = reduce(s, event, value, vae)
    assert res["state"] is None and res["url"] is None, res
    assert msg in res["message"] and "\n" not in res["message"] and len(res["message"]) < 200, res["message"]
    assert len([r for r in caplog.records if r.name == "latentdash.ui.events"]) == 1  # one log line


def test_too_many_groups_and_no_change_events(vae, vstate):
    s = dict(vstate, selection=[1, 2], groups={f"g{k}": [k] for k in range(8)})
    res = reduce(s, "save_group", "one more", vae)
    assert res["state"] is None and "8 groups" in res["message"]
    env = Env(vae, vae.get(s["model"]))
    assert A.on_direction(dict(s), {"kind": "groups", "from": None, "to": "sel"}, env) is NO_CHANGE
    assert A.on_strength(dict(s, strength=1.0), 1.0, env) is NO_CHANGE
    assert A.on_arith_clear(dict(s), 1, env) is NO_CHANGE


@pytest.mark.parametrize(
    "query,bad",
    [
        ("?dir=c7>c77", "dir"),
        ("?dir=g:nobody>all", "dir"),
        ("?dir=pc99", "dir"),
        ("?dir=c7>c9&strength=nan", "strength"),
        ("?dir=c7>c9&strength=9", "strength"),
        ("?arA=99999", "arA"),
        ("?arA=z1,2", "arA"),
        ("?trav=1&tn=99", "tn"),
        ("?trav=1&tcols=2", "tcols"),
        ("?trav=1&tk=inf", "tk"),
        ("?prior=1&pn=1000", "pn"),
        ("?prior=1&ptemp=-1", "ptemp"),
        ("?groups=a<b>:1-3", "groups"),
        ("?groups=g:1-99999", "groups"),
        ("?gpage=-1", "gpage"),
        ("?trav=yes", "trav"),
    ],
)
def test_a_tampered_link_falls_back_and_names_the_parameter(vae, query, bad):
    state, problems = urlstate.parse(query, vae)
    assert problems == [bad]
    # the same as the link without the bad parameter: the rest of the view is kept
    rest = "?" + "&".join(p for p in query[1:].split("&") if not p.startswith(bad + "="))
    assert state == urlstate.parse(rest, vae)[0]
    res = reduce(urlstate.default_state(vae), "url", query, vae)
    assert "Ignored bad link parameter(s)" in res["message"]


def test_every_algebra_result_rides_in_the_link(vae, vstate):
    s = dict(
        vstate,
        selection=[1, 2, 3, 10],
        groups={"left": [1, 2], "right": [10, 11, 12]},
        dir="g:left>g:right",
        strength=-1.25,
        arA={"i": 4},
        arB={"i": 5},
        arC={"z": [0.5] * 16},
        ton=True,
        trows="pcs",
        tn=5,
        tcols=7,
        tk=1.5,
        tsort=True,
        pon=True,
        pn=32,
        pseed=77,
        ptemp=0.7,
        gpage=0,
    )
    back, problems = urlstate.parse(urlstate.serialize(s, vae), vae)
    assert problems == []
    for k in ("selection", "groups", "dir", "strength", "arA", "arB", "arC", "ton", "trows", "tn", "tcols", "tk"):
        assert back[k] == s[k], k
    for k in ("tsort", "pon", "pn", "pseed", "ptemp"):
        assert back[k] == s[k], k


# ----------------------------------------------------------------------------- the pure functions
def test_pure_functions_refuse_what_they_cannot_do():
    lat = np.random.default_rng(0).standard_normal((100, 4)).astype(np.float32)
    with pytest.raises(LatentdashError, match="empty"):
        alg.group_mean(lat, [])
    with pytest.raises(LatentdashError, match="same mean"):
        alg.direction_between(lat, [1, 2], [2, 1])
    with pytest.raises(LatentdashError, match="same vector"):
        alg.arithmetic(lat[0], lat[0], lat[0])
    assert np.allclose(alg.arithmetic(lat[0], lat[1], lat[1]), lat[0])
    with pytest.raises(LatentdashError):
        alg.check_grid(13, 9, 2.0)
    with pytest.raises(LatentdashError):
        alg.check_prior(16, 0, 3.5)
    assert alg.active_units(np.asarray([0.0, 0.5, 0.005, 2.0])) == 2
    assert np.allclose(alg.kl_per_dim(np.zeros((3, 2)), np.zeros((3, 2))), 0)
    assert isinstance(Reject("x"), LatentdashError)
    assert set(events.TRAV_CONTROLS) == {"on", "rows", "n", "cols", "k", "sort"}
