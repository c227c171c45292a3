#!/usr/bin/env python3
# Side-by-side peer for the nqs RBM trainer: scikit-learn's BernoulliRBM (persistent CD).
#
# Install (virtual environment outside the repository):
#   python3 -m venv /work/venv-sk && /work/venv-sk/bin/pip install scikit-learn numpy
# Run:
#   /work/venv-sk/bin/python scripts/sklearn_rbm_peer.py --train data.txt [--valid v.txt] \
#       --hidden 16 --epochs 100 --lr 0.01 --batch 100 --seed 1 [--ising 4 2.27] [--out r.json]
#   /work/venv-sk/bin/python scripts/sklearn_rbm_peer.py --self-test
"""Train sklearn's BernoulliRBM and score it exactly (log Z by enumeration, no sampling).

Data: one sample per line, 0/1 values separated by whitespace or commas, '#' comments;
+-1 spins are mapped to x = (s + 1) / 2.  RBM energy E(x, h) = -a.x - b.h - x^T W h with
a = intercept_visible_, b = intercept_hidden_, W = components_.T  (W is [n_visible, n_hidden]).
"""
import argparse, json, sys, time
import numpy as np

CHUNK = 1 << 16  # states enumerated at a time


def softplus(z):
    """Numerically stable log(1 + e^z)."""
    return np.logaddexp(0.0, z)


def logsumexp(v):
    """Stable log(sum(exp(v))) of a 1-D array."""
    m = np.max(v)
    return m + np.log(np.sum(np.exp(v - m)))


def bit_states(start, stop, n):
    """Rows are the binary states start..stop-1; unit k is bit k of the state's integer."""
    idx = np.arange(start, stop, dtype=np.int64)
    return ((idx[:, None] >> np.arange(n)) & 1).astype(np.float64)


def free_energy(x, a, b, W):
    """F(x) = -a.x - sum_j softplus(b_j + (xW)_j), so p(x) = exp(-F(x)) / Z."""
    return -x @ a - softplus(b + x @ W).sum(axis=1)


def log_z(a, b, W, over=None):
    """Exact log Z by enumerating the smaller layer (ties: hidden), chunked; None if > 24 units."""
    n, m = W.shape
    over = over or ("hidden" if m <= n else "visible")
    size = m if over == "hidden" else n
    if size > 24:
        return None
    parts = []
    for s in range(0, 1 << size, CHUNK):
        st = bit_states(s, min(s + CHUNK, 1 << size), size)
        if over == "hidden":  # log sum_h exp(b.h + sum_k softplus(a_k + (W h)_k))
            parts.append(logsumexp(st @ b + softplus(a + st @ W.T).sum(axis=1)))
        else:
            parts.append(logsumexp(-free_energy(st, a, b, W)))
    return logsumexp(np.array(parts))


def ising_log_p(L, T):
    """Exact log Boltzmann probabilities of all 2^(L*L) states of the periodic 2D Ising model.

    Convention: site i = row*L + col, x_i = bit i of the state index, s = 2x - 1, J = k_B = 1.
    For every site i the bonds (i, right(i)) and (i, down(i)) are summed, i.e. 2 L^2 bonds for
    every L >= 2; for L = 2 each neighbour pair therefore appears twice (with multiplicity).
    E = -sum over those bonds of s_i s_j.  Returns (log_p, E), both of length 2^(L*L).
    """
    N = L * L
    s = 2.0 * bit_states(0, 1 << N, N) - 1.0
    r, c = np.divmod(np.arange(N), L)
    right, down = r * L + (c + 1) % L, ((r + 1) % L) * L + c
    E = 0.0 - (s * s[:, right]).sum(axis=1) - (s * s[:, down]).sum(axis=1)
    logw = -E / T
    return logw - logsumexp(logw), E


def load(path):
    """Read a sample file into a float64 0/1 array (maps +-1 spins to 0/1)."""
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                rows.append([float(t) for t in line.replace(",", " ").split()])
    X = np.array(rows, dtype=np.float64)
    if X.min() < 0:
        X = (X + 1.0) / 2.0
    if not np.all((X == 0) | (X == 1)):
        sys.exit(f"{path}: values must be 0/1 or -1/+1")
    return X


def self_test():
    """Check log Z (hidden / visible / brute force), F vs sklearn, and the L=2 Ising levels."""
    rng = np.random.default_rng(0)
    n, m = 4, 3
    a, b, W = rng.normal(size=n), rng.normal(size=m), rng.normal(size=(n, m))
    xs, hs = bit_states(0, 1 << n, n), bit_states(0, 1 << m, m)
    brute = logsumexp((xs @ a)[:, None] + (hs @ b)[None, :] + xs @ W @ hs.T)  # sum over (x, h)
    zh, zv = log_z(a, b, W, "hidden"), log_z(a, b, W, "visible")
    print(f"logZ hidden={zh:.15f} visible={zv:.15f} brute={brute:.15f}")
    assert abs(zh - brute) < 1e-10 and abs(zv - brute) < 1e-10
    marg = -np.array([logsumexp(x @ a + hs @ b + hs @ (W.T @ x)) for x in xs])
    assert np.max(np.abs(free_energy(xs, a, b, W) - marg)) < 1e-12
    from sklearn.neural_network import BernoulliRBM
    rbm = BernoulliRBM(n_components=m, n_iter=2, random_state=0).fit(xs)
    ours = free_energy(xs, rbm.intercept_visible_, rbm.intercept_hidden_, rbm.components_.T)
    assert np.max(np.abs(ours - rbm._free_energy(xs))) < 1e-12  # W = components_.T convention
    print("free energy: matches sum_h exp(-E) and sklearn's _free_energy")
    a2, b2, W2 = rng.normal(size=18), rng.normal(size=5), 0.3 * rng.normal(size=(18, 5))
    zh2, zv2 = log_z(a2, b2, W2, "hidden"), log_z(a2, b2, W2, "visible")  # 4 visible chunks
    print(f"logZ 18x5 (chunked): hidden={zh2:.12f} visible={zv2:.12f}")
    assert abs(zh2 - zv2) < 1e-9
    logp, E = ising_log_p(2, 2.27)
    levels = dict(zip(*[u.tolist() for u in np.unique(E, return_counts=True)]))
    print(f"Ising L=2: sum p = {np.exp(logp).sum():.15f}, levels (E: count) = {levels}")
    assert abs(np.exp(logp).sum() - 1) < 1e-12 and levels == {-8.0: 2, 0.0: 12, 8.0: 2}
    logp3, E3 = ising_log_p(3, 1.0)  # loop-based check of the vectorised energy, L = 3
    for k in rng.integers(0, 1 << 9, 20):
        sp = [2 * ((int(k) >> i) & 1) - 1 for i in range(9)]
        e = -sum(sp[r * 3 + c] * (sp[r * 3 + (c + 1) % 3] + sp[((r + 1) % 3) * 3 + c])
                 for r in range(3) for c in range(3))
        assert e == E3[k]
    assert E3.min() == -18 and abs(np.exp(logp3).sum() - 1) < 1e-12
    print("self-test passed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train"); ap.add_argument("--valid")
    ap.add_argument("--valid-fraction", type=float, default=0.1)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=100, help="sklearn n_iter")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ising", nargs=2, metavar=("L", "T"))
    ap.add_argument("--out")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.train:
        ap.error("--train is required")
    from sklearn import __version__ as skv
    from sklearn.neural_network import BernoulliRBM

    X = load(args.train)
    if args.valid:
        Xv = load(args.valid)
    else:  # seeded shuffle, hold out the first valid-fraction rows
        X = X[np.random.default_rng(args.seed).permutation(len(X))]
        nv = int(round(args.valid_fraction * len(X)))
        Xv, X = X[:nv], X[nv:]
    rbm = BernoulliRBM(n_components=args.hidden, learning_rate=args.lr, batch_size=args.batch,
                       n_iter=args.epochs, random_state=args.seed)
    t0 = time.perf_counter()
    rbm.fit(X)
    seconds = time.perf_counter() - t0
    a, b, W = rbm.intercept_visible_, rbm.intercept_hidden_, rbm.components_.T
    lz = log_z(a, b, W)
    ll = lambda D: None if lz is None or len(D) == 0 else float(np.mean(-free_energy(D, a, b, W)) - lz)
    res = dict(peer="sklearn BernoulliRBM", sklearn=skv, n_visible=X.shape[1], hidden=args.hidden,
               epochs=args.epochs, lr=args.lr, batch=args.batch, seed=args.seed, n_train=len(X),
               n_valid=len(Xv), log_z=lz, train_ll=ll(X), valid_ll=ll(Xv), kl=None, seconds=seconds)
    if args.ising:
        L, T = int(args.ising[0]), float(args.ising[1])
        if L > 4 or L * L != X.shape[1]:
            sys.exit("--ising needs L <= 4 and L*L visible units")
        logp, _ = ising_log_p(L, T)
        logq = -free_energy(bit_states(0, 1 << (L * L), L * L), a, b, W) - lz
        res.update(ising_L=L, ising_T=T, kl=float(np.sum(np.exp(logp) * (logp - logq))))
    f = lambda v: "n/a" if v is None else f"{v:.4f}"
    print(f"sklearn BernoulliRBM: visible={X.shape[1]} hidden={args.hidden} epochs={args.epochs} "
          f"lr={args.lr} batch={args.batch} logZ={f(lz)} train_LL={f(res['train_ll'])} "
          f"valid_LL={f(res['valid_ll'])} KL={f(res['kl'])} fit={seconds:.3f}s")
    print("| peer | hidden | epochs | train LL | valid LL | KL | seconds |\n|---|---|---|---|---|---|---|")
    print(f"| sklearn BernoulliRBM | {args.hidden} | {args.epochs} | {f(res['train_ll'])} | "
          f"{f(res['valid_ll'])} | {f(res['kl'])} | {seconds:.3f} |")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(res, fh, indent=2)


if __name__ == "__main__":
    main()
