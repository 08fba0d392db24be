"""`latentdash info ARTIFACT` for an atlas: what it was built from and how good each map is."""

from __future__ import annotations

from pathlib import Path

from .store import load_atlas


def _f(v, fmt="{:.4f}") -> str:
    return "-" if v is None else fmt.format(v)


def describe_atlas(path) -> str:
    a = load_atlas(Path(path))
    m, meta = a.metrics, a.meta
    p = meta.get("params", {})
    model = meta.get("model", {})
    lines = [
        f"atlas        {path}",
        f"key          {a.key}",
        f"model        {model.get('arch') or model.get('kind')} ({model.get('kind')}), latent size "
        f"{model.get('latent_dim')}, sha256 {str(meta.get('model_sha256'))[:16]}"
        + (f" ({model['path']})" if model.get("path") else ""),
        f"data         {meta.get('dataset_id')}: {a.n} items ({meta.get('source')}), fingerprint "
        f"{meta.get('dataset_fingerprint')}" + (f", stratified subset of {p['limit']}" if p.get("limit") else ""),
        f"parameters   methods {','.join(p.get('methods', []))}, dims {','.join(map(str, p.get('dims', [])))}, "
        f"perplexity {p.get('perplexity')}, n_neighbors {p.get('n_neighbors')}, min_dist "
        f"{p.get('min_dist')}, metric {p.get('metric')}, seed {p.get('seed')}",
        f"built        {meta.get('written')} by latentdash {meta.get('latentdash')} in "
        f"{sum((meta.get('timings_s') or {}).values()):.1f} s",
    ]
    if a.recon_error is not None and model.get("has_encoder", True):
        lines.append(f"recon error  mean MSE per pixel {float(a.recon_error.mean()):.5f}")
    lines.append(
        f"5-NN label accuracy (leave-one-out): latent space {_f(m.get('latent_knn_acc'))}, "
        f"pixel space {_f(m.get('pixel_knn_acc'))}"
    )
    q = m.get("trust_queries")
    exact = "exact, all points" if m.get("trust_exact") else f"estimated on a fixed subsample of {q} points"
    lines.append(
        f"per map      trustworthiness (k={m.get('trustworthiness_k')}, {exact}), "
        f"{m.get('knn_k')}-NN accuracy, mean {m.get('preservation_k')}-NN preservation"
    )
    lines.append(f"  {'map':<16}{'trust':>8}{'knn acc':>10}{'preserv':>10}")
    for name, mm in m.get("maps", {}).items():
        lines.append(
            f"  {name:<16}{_f(mm.get('trustworthiness')):>8}{_f(mm.get('knn_acc')):>10}"
            f"{_f(mm.get('preservation_mean')):>10}"
        )
    if m.get("pixel_neighbour_space"):
        lines.append(f"pixel neighbours computed in: {m['pixel_neighbour_space']}")
    return "\n".join(lines)
