#!/usr/bin/env python3
"""Symmetric e-prop in JAX (double precision, one jax.lax.scan over time), for
`biornn conform --exec 'python3 eprop_jax.py'`. Same protocol and equations as eprop.py, whose
docstring has them; this version prints the gradient without per-step increments, so the kit
checks everything but the online properties."""
import json
import sys

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

ACTIVATIONS = {  # φ and φ'
    "tanh": (jnp.tanh, lambda a: 1 - jnp.tanh(a) ** 2),
    "retanh": (lambda a: jnp.maximum(jnp.tanh(a), 0), lambda a: jnp.where(a > 0, 1 - jnp.tanh(a) ** 2, 0.0)),
    "relu": (lambda a: jnp.maximum(a, 0), lambda a: (a > 0).astype(jnp.float64)),
    "softplus": (jax.nn.softplus, jax.nn.sigmoid),
    "linear": (lambda a: a, jnp.ones_like),
}


def eprop(model, batch):
    alpha = model["alpha"]
    phi, dphi = ACTIVATIONS[model["activation"]]
    w_rec, w_out = jnp.array(model["w_rec"]), jnp.array(model["w_out"])
    b_rec, b_out, h0 = (jnp.array(model[k], dtype=jnp.float64) for k in ("b_rec", "b_out", "h0"))
    x = jnp.array(batch["inputs"], dtype=jnp.float64)                       # T × B × I
    trials, n = x.shape[1], h0.shape[0]
    w_in = jnp.array(model["w_in"], dtype=jnp.float64).reshape(n, x.shape[2])
    mask = jnp.array(batch["mask"], dtype=jnp.float64)[..., None]          # T × B × 1
    mse = "targets" in batch
    target = jnp.array(batch["targets"] if mse else batch["labels"])

    def step(carry, data):
        a, r_bar, x_bar, b_bar, h_bar = carry
        x_t, m, target_t = data
        r_prev = phi(a)
        a = (1 - alpha) * a + alpha * (r_prev @ w_rec.T + x_t @ w_in.T + b_rec)
        r = phi(a)
        y = r @ w_out.T + b_out
        if mse:
            e = y - target_t
            loss, g = 0.5 * jnp.sum(m * e * e) / trials, m * e / trials
        else:
            log_p = jax.nn.log_softmax(y)
            onehot = jax.nn.one_hot(target_t, y.shape[1])
            loss, g = -jnp.sum(m * onehot * log_p) / trials, m * (jnp.exp(log_p) - onehot) / trials
        r_bar = (1 - alpha) * r_bar + alpha * r_prev
        x_bar = (1 - alpha) * x_bar + alpha * x_t
        b_bar, h_bar = (1 - alpha) * b_bar + alpha, h_bar * (1 - alpha)
        l = (g @ w_out) * dphi(a)
        grads = {"w_in": l.T @ x_bar, "w_rec": l.T @ r_bar, "w_out": g.T @ r,
                 "b_rec": b_bar * l.sum(0), "b_out": g.sum(0), "h0": h_bar * l.sum(0)}
        return (a, r_bar, x_bar, b_bar, h_bar), (loss, grads)

    start = (jnp.tile(h0, (trials, 1)), jnp.zeros((trials, n)), jnp.zeros_like(x[0]), 0.0, 1.0)
    _, (losses, grads) = jax.lax.scan(step, start, (x, mask, target))
    return losses.sum(), {k: v.sum(0) for k, v in grads.items()}


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        model = json.load(f)
    with open(sys.argv[2]) as f:
        batch = json.load(f)
    loss, grads = eprop(model, batch)
    print(json.dumps({"loss": float(loss), "grads": {k: v.tolist() for k, v in grads.items()}}))
