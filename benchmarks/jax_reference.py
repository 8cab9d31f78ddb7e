"""The `biornn bench` workloads written in JAX, for a side-by-side comparison (double precision).

The same model, equations and sizes as Sources/BioRNN/Benchmark/Benchmark.swift, read from the
files `biornn bench --save DIR` writes (model.json, batch.json, start.json):

    a_t = (1 - α)·a_{t-1} + α·(W_rec·φ(a_{t-1}) + W_in·x_t + b_rec),   a_0 = h0,   φ = tanh
    y_t = W_out·φ(a_t) + b_out,      E = ½·Σ_{t,b} ‖y_t − target_t‖² / B

  BPTT      jax.grad of E
  e-prop    jax.grad of E with stop_gradient on φ(a_{t-1}) in the recurrent term (leak kept):
            BioRNN's tests prove e-prop equals this "stop-gradient BPTT"
  training  gradient, clipping to global norm 1, Adam (lr 0.01, β 0.9/0.999, ε 1e-8): BioRNN's defaults
  spectrum  V = (1 − α)·Q + α·W_rec·(φ'(a) ⊙ Q);  a ← step(a);  Q, R = jnp.linalg.qr(V);  λ = mean log|R_ii|
            in one jax.lax.scan (QR every step), from BioRNN's x_0 and Q_0
  flossing  L = (1/k)·Σ_i λ_i² over a T-step window of the spectrum above (autonomous, from x_0, Q_0[:, :k]);
            full:  jax.grad of L through the trajectory and every QR (W_rec, b_rec)
            local: jax.grad of Σ_t Σ_i c_i·log|R_t,ii| with c_i = 2λ_i/(k·T) held constant, Q_{t−1} held
                   constant, and the state's dependence on the weights through e-prop's stop-gradient
                   recurrence (a_t's recurrent input W_rec·sg(φ(a_{t−1}))): BioRNN's local rule, whose
                   eligibility traces are exactly that dependence
            step:  the gradient, then Adam (lr 0.002, no clipping) on W_rec and b_rec, as `biornn floss`

    python jax_reference.py check DIR            compare with DIR/reference.json (BioRNN's numbers), to 1e-9
    python jax_reference.py time DIR --what bptt|eprop|lyapunov|floss|floss-local [--k K] [--repeats R] [--warmup W]
"""
import argparse
import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)


def load(folder):
    with open(f"{folder}/model.json") as f:
        m = json.load(f)
    with open(f"{folder}/batch.json") as f:
        b = json.load(f)
    with open(f"{folder}/start.json") as f:
        s = json.load(f)
    params = {k: jnp.asarray(m[k], dtype=jnp.float64) for k in ("w_in", "w_rec", "w_out", "b_rec", "b_out", "h0")}
    x = jnp.asarray(b["inputs"], dtype=jnp.float64)        # T×B×I
    target = jnp.asarray(b["targets"], dtype=jnp.float64)  # T×B×O
    start = (jnp.asarray(s["x0"], dtype=jnp.float64), jnp.asarray(s["q0"], dtype=jnp.float64))
    return float(m["alpha"]), params, x, target, start


def make_loss(alpha, eprop):
    def loss(p, x, target):
        batch = x.shape[1]
        a0 = jnp.broadcast_to(p["h0"], (batch, p["h0"].shape[0]))

        def step(a, xt):
            r = jnp.tanh(a)
            if eprop:
                r = jax.lax.stop_gradient(r)
            a = (1 - alpha) * a + alpha * (r @ p["w_rec"].T + xt @ p["w_in"].T + p["b_rec"])
            return a, a

        _, states = jax.lax.scan(step, a0, x)
        y = jnp.tanh(states) @ p["w_out"].T + p["b_out"]
        return 0.5 * jnp.sum((y - target) ** 2) / batch

    return loss


def make_train_step(alpha, eprop, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, clip=1.0):
    grad = jax.value_and_grad(make_loss(alpha, eprop))

    @jax.jit
    def train_step(p, m, v, count, x, target):
        loss, g = grad(p, x, target)
        norm = jnp.sqrt(sum(jnp.sum(t ** 2) for t in jax.tree_util.tree_leaves(g)))
        scale = jnp.minimum(1.0, clip / norm)
        g = jax.tree_util.tree_map(lambda t: t * scale, g)
        count = count + 1
        m = jax.tree_util.tree_map(lambda mt, gt: beta1 * mt + (1 - beta1) * gt, m, g)
        v = jax.tree_util.tree_map(lambda vt, gt: beta2 * vt + (1 - beta2) * gt * gt, v, g)
        c1, c2 = 1 - beta1 ** count, 1 - beta2 ** count
        p = jax.tree_util.tree_map(lambda pt, mt, vt: pt - lr * (mt / c1) / (jnp.sqrt(vt / c2) + eps), p, m, v)
        return p, m, v, count, loss

    return train_step


def make_spectrum(alpha, steps):
    @jax.jit
    def spectrum(w_rec, b_rec, a0, q0):
        def step(carry, _):
            a, q = carry
            d = 1 - jnp.tanh(a) ** 2
            v = (1 - alpha) * q + alpha * (w_rec @ (d[:, None] * q))
            a = (1 - alpha) * a + alpha * (w_rec @ jnp.tanh(a) + b_rec)
            q, r = jnp.linalg.qr(v)
            return (a, q), jnp.log(jnp.abs(jnp.diag(r)))

        _, logs = jax.lax.scan(step, (a0, q0), None, length=steps)
        return jnp.sort(jnp.mean(logs, axis=0))[::-1]

    return spectrum


def make_flossing(alpha, steps, local):
    """L and its gradient for (w_rec, b_rec): full, or BioRNN's local rule (see the module's doc)."""

    def window(w_rec, b_rec, a0, q0, local_pass):
        def step(carry, _):
            a, q = carry
            if local_pass:
                q = jax.lax.stop_gradient(q)
            d = 1 - jnp.tanh(a) ** 2
            v = (1 - alpha) * q + alpha * (w_rec @ (d[:, None] * q))
            r_pre = jax.lax.stop_gradient(jnp.tanh(a)) if local_pass else jnp.tanh(a)
            a = (1 - alpha) * a + alpha * (w_rec @ r_pre + b_rec)
            q, r = jnp.linalg.qr(v)
            return (a, q), jnp.log(jnp.abs(jnp.diag(r)))

        _, logs = jax.lax.scan(step, (a0, q0), None, length=steps)
        return logs                                             # T×k

    def loss(params, a0, q0):
        lam = jnp.mean(window(params[0], params[1], a0, q0, False), axis=0)
        return jnp.mean(lam ** 2)

    def surrogate(params, a0, q0):
        logs = window(params[0], params[1], a0, q0, True)
        k = logs.shape[1]
        c = jax.lax.stop_gradient(2 * jnp.mean(logs, axis=0) / (k * steps))
        return jnp.sum(logs * c)

    return jax.grad(surrogate) if local else jax.grad(loss), loss


def make_floss_step(alpha, steps, local, lr=0.002, beta1=0.9, beta2=0.999, eps=1e-8):
    grad, _ = make_flossing(alpha, steps, local)

    @jax.jit
    def floss_step(params, m, v, count, a0, q0):
        g = grad(params, a0, q0)
        count = count + 1
        m = tuple(beta1 * mt + (1 - beta1) * gt for mt, gt in zip(m, g))
        v = tuple(beta2 * vt + (1 - beta2) * gt * gt for vt, gt in zip(v, g))
        c1, c2 = 1 - beta1 ** count, 1 - beta2 ** count
        params = tuple(pt - lr * (mt / c1) / (jnp.sqrt(vt / c2) + eps) for pt, mt, vt in zip(params, m, v))
        return params, m, v, count

    return floss_step


def check(folder):
    alpha, p, x, target, (a0, q0) = load(folder)
    with open(f"{folder}/reference.json") as f:
        ref = json.load(f)
    worst = 0.0
    for rule in ("bptt", "eprop"):
        g = jax.grad(make_loss(alpha, rule == "eprop"))(p, x, target)
        for name, tensor in g.items():
            want = np.asarray(ref[rule][name], dtype=np.float64)
            got = np.asarray(tensor)
            rel = np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-300)
            worst = max(worst, rel)
            print(f"  {rule:6s} {name:6s} relative difference {rel:.2e}")
    exps = np.asarray(make_spectrum(alpha, int(ref["spectrum_steps"]))(p["w_rec"], p["b_rec"], a0, q0))
    want = np.asarray(ref["exponents"])
    diff = float(np.max(np.abs(exps - want)))
    print(f"  spectrum: {len(want)} exponents over {ref['spectrum_steps']} steps, max |Δλ| {diff:.2e} (λ_1 = {want[0]:.6f})")
    flossing = ref["flossing"]
    k = len(flossing["exponents"])
    params, q = (p["w_rec"], p["b_rec"]), q0[:, :k]
    for mode in ("full", "local"):
        grad, loss = make_flossing(alpha, int(ref["spectrum_steps"]), mode == "local")
        g = jax.jit(grad)(params, a0, q)
        for name, tensor in zip(("w_rec", "b_rec"), g):
            want = np.asarray(flossing[mode][name], dtype=np.float64)
            rel = np.linalg.norm(np.asarray(tensor) - want) / max(np.linalg.norm(want), 1e-300)
            worst = max(worst, rel)
            print(f"  flossing {mode:5s} {name:5s} relative difference {rel:.2e}")
    floss_loss = float(loss(params, a0, q))
    loss_diff = abs(floss_loss - flossing["loss"]) / abs(flossing["loss"])
    print(f"  flossing loss over {ref['spectrum_steps']} steps, k = {k}: relative difference {loss_diff:.2e}")
    ok = worst <= 1e-9 and diff <= 1e-9 and loss_diff <= 1e-9
    print("check: " + ("the JAX reference computes BioRNN's numbers (≤ 1e-9)" if ok else "MISMATCH"))
    return 0 if ok else 1


def median_seconds(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def timing(folder, what, k, warmup, repeats):
    alpha, p, x, target, (a0, q0) = load(folder)
    if what in ("bptt", "eprop"):
        step = make_train_step(alpha, what == "eprop")
        zeros = jax.tree_util.tree_map(jnp.zeros_like, p)
        state = [p, zeros, zeros, jnp.asarray(0.0)]

        def run():
            out = step(*state, x, target)
            jax.block_until_ready(out)
            state[:] = out[:4]
    elif what == "lyapunov":
        steps = x.shape[0]
        spectrum = make_spectrum(alpha, steps)
        q = q0[:, :k]

        def run():
            jax.block_until_ready(spectrum(p["w_rec"], p["b_rec"], a0, q))
    elif what in ("floss", "floss-local"):
        step = make_floss_step(alpha, x.shape[0], what == "floss-local")
        params = (p["w_rec"], p["b_rec"])
        zeros = tuple(jnp.zeros_like(t) for t in params)
        state = [params, zeros, zeros, jnp.asarray(0.0)]
        q = q0[:, :k]

        def run():
            out = step(*state, a0, q)
            jax.block_until_ready(out)
            state[:] = out
    else:
        sys.exit(f"jax_reference: unknown workload {what}")
    seconds = median_seconds(run, warmup, repeats)
    print(json.dumps({"what": what, "ms_median": seconds * 1000}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["check", "time"])
    parser.add_argument("folder")
    parser.add_argument("--what", default="bptt")
    parser.add_argument("--k", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.command == "check":
        sys.exit(check(args.folder))
    with open(f"{args.folder}/start.json") as f:
        k = args.k or len(json.load(f)["q0"][0])
    timing(args.folder, args.what, k, args.warmup, args.repeats)


if __name__ == "__main__":
    main()
