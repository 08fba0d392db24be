"""Quality metrics shared by training (model cards) and the atlas (map quality). Pure numpy/sklearn."""

from __future__ import annotations

import numpy as np


def knn_accuracy(x: np.ndarray, y: np.ndarray, k: int = 5, x_test=None, y_test=None) -> float:
    """k-NN classification accuracy (majority vote, ties to the nearest).

    With x_test: fit on (x, y) and score on (x_test, y_test) (the dataset's train->test protocol).
    Without: leave-one-out within (x, y).
    """
    from sklearn.neighbors import NearestNeighbors

    x = np.asarray(x, np.float32).reshape(len(x), -1)
    y = np.asarray(y)
    loo = x_test is None
    q = x if loo else np.asarray(x_test, np.float32).reshape(len(x_test), -1)
    yq = y if loo else np.asarray(y_test)
    nn = NearestNeighbors(n_neighbors=k + int(loo)).fit(x)
    correct = 0
    for s in range(0, len(q), 4096):
        idx = nn.kneighbors(q[s : s + 4096], return_distance=False)
        if loo:
            idx = idx[:, 1:]
        correct += int((majority_vote(y[idx]) == yq[s : s + 4096]).sum())
    return correct / len(q)


def majority_vote(votes: np.ndarray) -> np.ndarray:
    """Per row of neighbour labels [N, k] (nearest first): the most common label; a tie goes to
    the label of the nearest neighbour among the tied ones. Vectorised."""
    votes = np.asarray(votes)
    counts = (votes[:, :, None] == votes[:, None, :]).sum(2)  # [N, k]: votes for each one's label
    first_best = np.argmax(counts == counts.max(1, keepdims=True), axis=1)
    return votes[np.arange(len(votes)), first_best]


def reconstruction_mse(model, images01: np.ndarray, batch: int = 2048) -> np.ndarray:
    """Per-image mean squared error of decode(encode(x)) against x, float32 [N]."""
    out = np.empty(len(images01), np.float32)
    for s in range(0, len(images01), batch):
        x = images01[s : s + batch]
        r = model.decode(model.encode(x))
        out[s : s + batch] = ((r - x) ** 2).reshape(len(x), -1).mean(1)
    return out
