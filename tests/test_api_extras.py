"""The extras endpoints of the REST API (plausibility, regions, topology, fit) through Flask's test
client on a real app: the shipped VAE on its shipped atlas and extras, and a small PCA model of
conftest whose extras are computed at start. Answers are the Explorer's; bad input is a JSON 4xx."""

from __future__ import annotations

import numpy as np
import pytest

API = "/api/v1"
VAE = "fashion-vae-16"


@pytest.fixture(scope="module")
def vae():
    from latentdash.atlas.shipped import CHECKPOINT_DIR, shipped_atlas_path
    from latentdash.atlas.store import load_atlas
    from latentdash.models import load_model
    from latentdash.service import Explorer

    ck = CHECKPOINT_DIR / f"{VAE}.pt"
    return Explorer(load_model(str(ck)), load_atlas(shipped_atlas_path(ck)), VAE)


@pytest.fixture(scope="module")
def client(explorers, vae):
    from latentdash.server.app_factory import create_app

    return create_app(explorers=[vae, *explorers]).server.test_client()


def assert_error(resp, status: int, *words):
    assert resp.status_code == status, (resp.status_code, resp.data[:300])
    msg = resp.get_json()["error"]
    assert "\n" not in msg and len(msg) < 400, msg
    for w in words:
        assert w.lower() in msg.lower(), msg
    return msg


def test_plausibility_of_data_and_of_far_vectors(client, vae):
    far = np.full(vae.latent_dim, 8.0).tolist()
    z = [vae.latents[3].tolist(), far]
    r = client.post(f"{API}/models/{VAE}/plausibility", json={"latents": z})
    assert r.status_code == 200, r.data[:300]
    res = r.get_json()["results"]
    assert [x["verdict"] for x in res] == ["typical", "off the data"]
    assert res[1]["percentile"] == 100.0 and res[1]["log_prior_nats"] < res[0]["log_prior_nats"] - 100
    want = vae.plausibility(np.array(z))
    assert [x["distance"] for x in res] == pytest.approx(want["distance"])
    assert [x["nearest"] for x in res] == want["nearest"]
    one = client.post(f"{API}/models/{VAE}/plausibility", json={"latents": [far]}).get_json()["results"]
    assert one == [res[1]]


def test_plausibility_without_a_prior_and_bad_vectors(client, explorers):
    ex = explorers[0]
    r = client.post(f"{API}/models/{ex.name}/plausibility", json={"latents": [ex.latents[0].tolist()]})
    assert r.status_code == 200 and r.get_json()["results"][0]["log_prior_nats"] is None  # a linear model
    assert_error(client.post(f"{API}/models/{VAE}/plausibility", json={"latents": [[0.0, 1.0]]}), 422, "16")
    assert_error(client.post(f"{API}/models/{VAE}/plausibility", json={"latents": "x"}), 400, "latents")
    assert_error(client.post(f"{API}/models/{VAE}/plausibility", json={}), 400, "latents")
    assert_error(client.post(f"{API}/models/nope/plausibility", json={"latents": [[0.0]]}), 404)


def test_regions_are_the_explorers(client, vae, explorers):
    r = client.get(f"{API}/models/{VAE}/regions?map=latent-umap-2d")
    assert r.status_code == 200, r.data[:300]
    body = r.get_json()
    assert body["map"] == "latent-umap-2d" and body["clusters"] == vae.regions("latent-umap-2d")["clusters"]
    assert any(c["majority"] == "Trouser" and c["purity"] > 0.9 for c in body["clusters"])
    small = client.get(f"{API}/models/{explorers[0].name}/regions?map=latent-pca-2d")
    assert small.status_code == 200 and small.get_json()["n_clusters"] >= 1  # computed at start
    assert_error(client.get(f"{API}/models/{VAE}/regions?map=latent-umap-3d"), 422, "2-D")
    assert_error(client.get(f"{API}/models/{VAE}/regions?map=latent-tsne-2x"), 400, "map")
    assert_error(client.get(f"{API}/models/{VAE}/regions"), 400, "map")


def test_topology_and_fit(client, vae):
    t = client.get(f"{API}/models/{VAE}/topology")
    assert t.status_code == 200, t.data[:300]
    body = t.get_json()
    assert body["reading"] == vae.topology()["reading"] and body["components"] >= 1
    assert body["h0"][-1][1] is None and len(body["h0"]) == body["params"]["landmarks_used"]
    f = client.get(f"{API}/models/{VAE}/fit").get_json()
    assert f["available"] and f["has_split"] is False and "one split only" in f["reading"]
    assert sum(f["hist"]["all"]) == vae.n
