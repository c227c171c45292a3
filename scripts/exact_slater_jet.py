#!/usr/bin/env python3
"""The Slater factor's local-energy jet, del^2 log|psi_S| and |del log|psi_S||^2, of a 2D
closed-shell Hermite determinant (alpha = omega = 1) computed exactly in rational
arithmetic, against host jets (`host_pass` MODE 1 output): how close the local energies'
Gauss-Jordan eliminations come to the exact values.

    WALKERS=x.txt OUT=jet.txt cargo run --release -p nqs-train --example host_pass -- 4096 20 1 1
    python3 scripts/exact_slater_jet.py 20 x.txt jet.txt [other_jet.txt ...] [--walkers 0 5 ...]

Each jet file holds "lap grad2" per walker; printed is each file's error in the local kinetic
energy -(lap + grad2)/2. Without --walkers the 8 walkers where the jet files differ most from
each other (or the first 8, with one file) are checked. For particle i
of block P (P_ij = H_{a_j}(x_i) H_{b_j}(y_i)): d_x log|det P| = sum_j d_x P_ij (P^-1)_ji and
d_x^2 log|det P| = sum_j d_x^2 P_ij (P^-1)_ji - (d_x log|det P|)^2; the Gaussian adds -x and
-1 per coordinate. Standard library only (fractions); the Hermite polynomials and the
shells come from `exact_slater_log_det.py` beside it.
"""
import sys
from fractions import Fraction

from exact_slater_log_det import closed_shell, hermite


def inverse(rows):
    """The exact inverse by Gauss-Jordan elimination on [A | I]."""
    n = len(rows)
    m = [r[:] + [Fraction(int(i == j)) for j in range(n)] for i, r in enumerate(rows)]
    for k in range(n):
        p = next(i for i in range(k, n) if m[i][k] != 0)
        m[k], m[p] = m[p], m[k]
        pivot = m[k][k]
        m[k] = [v / pivot for v in m[k]]
        for i in range(n):
            if i != k and m[i][k] != 0:
                f = m[i][k]
                m[i] = [a - f * b for a, b in zip(m[i], m[k])]
    return [r[n:] for r in m]


def exact_jet(x, particles, orbitals, shell):
    """(del^2 log|psi_S|, |del log|psi_S||^2) at coordinates x (Fractions), exactly."""
    n = particles // 2
    lap, grad2 = Fraction(0), Fraction(0)
    for block in range(2):
        tables = []
        for i in range(block * n, (block + 1) * n):
            hx, hy = hermite(x[2 * i], shell + 2), hermite(x[2 * i + 1], shell + 2)
            d1 = lambda h, k: 2 * k * h[k - 1] if k >= 1 else Fraction(0)
            d2 = lambda h, k: 4 * k * (k - 1) * h[k - 2] if k >= 2 else Fraction(0)
            tables.append((hx, hy, d1, d2))
        rows = [[hx[a] * hy[b] for a, b in orbitals] for hx, hy, _, _ in tables]
        inv = inverse(rows)
        for r, (hx, hy, d1, d2) in enumerate(tables):
            i = block * n + r
            for axis in range(2):
                first = [
                    (d1(hx, a) * hy[b]) if axis == 0 else (hx[a] * d1(hy, b))
                    for a, b in orbitals
                ]
                second = [
                    (d2(hx, a) * hy[b]) if axis == 0 else (hx[a] * d2(hy, b))
                    for a, b in orbitals
                ]
                g = sum(first[j] * inv[j][r] for j in range(n))
                h = sum(second[j] * inv[j][r] for j in range(n)) - g * g
                coordinate = x[2 * i + axis]
                grad = g - coordinate
                lap += h - 1
                grad2 += grad * grad
    return float(lap), float(grad2)


def main():
    args = sys.argv[1:]
    picks = []
    if "--walkers" in args:
        at = args.index("--walkers")
        picks = [int(v) for v in args[at + 1 :]]
        args = args[:at]
    particles, walkers_file, jet_files = int(args[0]), args[1], args[2:]
    shell, orbitals = closed_shell(particles)
    xs = [float(v) for v in open(walkers_file)]
    jets = [[tuple(float(v) for v in line.split()) for line in open(f)] for f in jet_files]
    if not picks:
        if len(jets) > 1:
            spread = [
                max(abs(j[w][0] - jets[0][w][0]) / max(1.0, abs(jets[0][w][0])) for j in jets)
                for w in range(len(jets[0]))
            ]
            picks = sorted(range(len(spread)), key=lambda w: -spread[w])[:8]
        else:
            picks = list(range(8))
    coords = 2 * particles
    worst = [0.0] * len(jets)
    for w in picks:
        x = [Fraction(v) for v in xs[w * coords : (w + 1) * coords]]
        lap, grad2 = exact_jet(x, particles, orbitals, shell)
        errors = []
        kinetic = -(lap + grad2) / 2
        for k, jet in enumerate(jets):
            # The local kinetic energy -(lap + grad2)/2 (hbar = m = 1): its error, absolute.
            e = abs(-(jet[w][0] + jet[w][1]) / 2 - kinetic)
            worst[k] = max(worst[k], e)
            errors.append(f"{e:.2e}")
        print(
            f"walker {w}: lap {lap:.6e}, kinetic {kinetic:.12e}; |error| {' '.join(errors)}",
            flush=True,
        )
    print("largest |error| of the kinetic energy:", " ".join(f"{e:.2e}" for e in worst))


if __name__ == "__main__":
    main()
