#!/usr/bin/env python3
"""Symmetric e-prop in NumPy, checked by `biornn conform --exec 'python3 eprop.py'`.

BioRNN runs this program with two arguments, a model file and a batch file (the JSON formats of
"File Formats" in BioRNN's documentation), and reads the loss and gradient it prints on stdout:

    {"loss": E, "grads": {"w_in": [[..]], "w_rec": [[..]], "w_out": [[..]], "b_rec": [..], "b_out": [..], "h0": [..]},
     "increments": [{"loss": E_1, "grads": {..}}, ...]}

The rule runs online, step by step, so it also prints each step's increments; the kit then checks
that they sum to the gradient and that none depends on later data. With time-major blocks
(B trials × N units) and α = dt/τ:

    a_t = (1 − α)·a_{t−1} + α·(W_rec·r_{t−1} + W_in·x_t + b_rec),   r_t = φ(a_t),   y_t = W_out·r_t + b_out
    r̄_t = (1 − α)·r̄_{t−1} + α·r_{t−1},   x̄_t = (1 − α)·x̄_{t−1} + α·x_t,   b̄_t = (1 − α)·b̄_{t−1} + α,   h̄_t = (1 − α)^t
    l_t = (W_outᵀ·G_t) ⊙ φ'(a_t),   G_t = ∂E/∂y_t
    Δw_rec = l_tᵀ·r̄_t,  Δw_in = l_tᵀ·x̄_t,  Δb_rec = b̄_t·Σ_b l_t,  Δh0 = h̄_t·Σ_b l_t,  Δw_out = G_tᵀ·r_t,  Δb_out = Σ_b G_t
"""
import json
import sys

import numpy as np

ACTIVATIONS = {  # φ and φ'
    "tanh": (np.tanh, lambda a: 1 - np.tanh(a) ** 2),
    "retanh": (lambda a: np.maximum(np.tanh(a), 0), lambda a: np.where(a > 0, 1 - np.tanh(a) ** 2, 0.0)),
    "relu": (lambda a: np.maximum(a, 0), lambda a: (a > 0).astype(float)),
    "softplus": (lambda a: np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a))), lambda a: 1 / (1 + np.exp(-a))),
    "linear": (lambda a: a, np.ones_like),
}


def loss_and_error(y, batch, t):
    """E_t and G_t = ∂E/∂y_t (B×O) of step t, as BioRNN defines them (averaged over trials)."""
    m = np.array(batch["mask"][t], float)[:, None]
    trials = y.shape[0]
    if "targets" in batch:
        e = y - np.array(batch["targets"][t], float)
        return 0.5 * np.sum(m * e * e) / trials, m * e / trials
    labels = np.array(batch["labels"][t], int)
    top = y.max(axis=1, keepdims=True)
    log_z = top + np.log(np.exp(y - top).sum(axis=1, keepdims=True))
    onehot = np.eye(y.shape[1])[labels]
    nll = (log_z[:, 0] - y[np.arange(trials), labels])
    return np.sum(m[:, 0] * nll) / trials, m * (np.exp(y - log_z) - onehot) / trials


def eprop(model, batch, recurrent_trace_rate=1.0):
    """The loss, the gradient and the per-step increments. `recurrent_trace_rate` scales the rate
    of the recurrent trace r̄ (1 is the rule; eprop_planted_bug.py passes 1.02)."""
    if model.get("noise_sd", 0):
        sys.exit("eprop.py: private noise is not supported")
    alpha = model["alpha"]
    phi, dphi = ACTIVATIONS[model["activation"]]
    w_rec, w_out = np.array(model["w_rec"], float), np.array(model["w_out"], float)
    b_rec, b_out, h0 = (np.array(model[k], float) for k in ("b_rec", "b_out", "h0"))
    x = np.array(batch["inputs"], float)                          # T × B × I
    steps, trials, n = x.shape[0], x.shape[1], len(h0)
    w_in = np.array(model["w_in"], float).reshape(n, x.shape[2])
    a = np.tile(h0, (trials, 1))
    r_bar, x_bar, b_bar, h_bar = np.zeros((trials, n)), np.zeros_like(x[0]), 0.0, 1.0
    increments = []
    for t in range(steps):
        r_prev = phi(a)
        a = (1 - alpha) * a + alpha * (r_prev @ w_rec.T + x[t] @ w_in.T + b_rec)
        r = phi(a)
        loss, g = loss_and_error(r @ w_out.T + b_out, batch, t)
        rate = alpha * recurrent_trace_rate
        r_bar = (1 - rate) * r_bar + rate * r_prev
        x_bar = (1 - alpha) * x_bar + alpha * x[t]
        b_bar, h_bar = (1 - alpha) * b_bar + alpha, h_bar * (1 - alpha)
        l = (g @ w_out) * dphi(a)
        increments.append({"loss": loss, "grads": {
            "w_in": l.T @ x_bar, "w_rec": l.T @ r_bar, "w_out": g.T @ r,
            "b_rec": b_bar * l.sum(axis=0), "b_out": g.sum(axis=0), "h0": h_bar * l.sum(axis=0)}})
    total = {"loss": sum(i["loss"] for i in increments),
             "grads": {k: sum(i["grads"][k] for i in increments) for k in increments[0]["grads"]}}
    return total, increments


def as_json(step):
    return {"loss": float(step["loss"]), "grads": {k: np.asarray(v).tolist() for k, v in step["grads"].items()}}


def main(recurrent_trace_rate=1.0):
    with open(sys.argv[1]) as f:
        model = json.load(f)
    with open(sys.argv[2]) as f:
        batch = json.load(f)
    total, increments = eprop(model, batch, recurrent_trace_rate)
    print(json.dumps({**as_json(total), "increments": [as_json(i) for i in increments]}))


if __name__ == "__main__":
    main()
