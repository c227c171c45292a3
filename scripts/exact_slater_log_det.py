#!/usr/bin/env python3
"""log|det P_up| + log|det P_down| - (1/2) sum x^2 of a 2D closed-shell Hermite Slater
determinant (alpha = omega = 1) computed exactly in rational arithmetic, against the host
value pass's output: how close the moves' eliminations come to the exact determinants.

    WALKERS=x.txt OUT=psi.txt cargo run --release -p nqs-train --example host_pass -- 4096 56 1
    python3 scripts/exact_slater_log_det.py 56 x.txt psi.txt [walker ...]

Without walker indices the first 8 are checked. Standard library only (fractions); a 28x28
pair of blocks takes a few seconds per walker.
"""
import math
import sys
from fractions import Fraction


def hermite(x, degree):
    """H_0 .. H_degree at x by H_{k+1} = 2x H_k - 2k H_{k-1}, exactly."""
    h = [Fraction(1), 2 * x]
    for k in range(1, degree):
        h.append(2 * x * h[k] - 2 * k * h[k - 1])
    return h[: degree + 1]


def log_abs_det(rows):
    """log|det| by exact Gaussian elimination."""
    m = [r[:] for r in rows]
    n = len(m)
    det = Fraction(1)
    for k in range(n):
        p = next((i for i in range(k, n) if m[i][k] != 0), None)
        if p is None:
            return -math.inf
        m[k], m[p] = m[p], m[k]
        det *= m[k][k]
        for i in range(k + 1, n):
            f = m[i][k] / m[k][k]
            if f:
                m[i] = [a - f * b for a, b in zip(m[i], m[k])]
    det = abs(det)
    return math.log(det.numerator) - math.log(det.denominator)


def closed_shell(particles):
    """The highest shell and the orbitals (a, b), H_a(x) H_b(y), of a 2D closed shell."""
    n = particles // 2
    shell = 0
    while (shell + 1) * (shell + 2) // 2 < n:
        shell += 1
    orbitals = [(a, s - a) for s in range(shell + 1) for a in range(s + 1)]
    if len(orbitals) != n:
        sys.exit(f"{particles} particles do not fill 2D shells")
    return shell, orbitals


def main():
    particles, walkers_file, out_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    picks = [int(v) for v in sys.argv[4:]] or list(range(8))
    n = particles // 2
    shell, orbitals = closed_shell(particles)
    xs = [float(v) for v in open(walkers_file)]
    host = [float(v) for v in open(out_file)]
    coords = 2 * particles
    worst = 0.0
    for w in picks:
        x = [Fraction(v) for v in xs[w * coords : (w + 1) * coords]]
        exact = float(-sum(v * v for v in x) / 2)
        for block in range(2):
            rows = []
            for i in range(block * n, (block + 1) * n):
                hx, hy = hermite(x[2 * i], shell), hermite(x[2 * i + 1], shell)
                rows.append([hx[a] * hy[b] for a, b in orbitals])
            exact += log_abs_det(rows)
        error = host[w] - exact
        worst = max(worst, abs(error))
        print(f"walker {w}: exact {exact:.15f}, host - exact {error:.2e}", flush=True)
    print(f"largest |host - exact|: {worst:.2e}")


if __name__ == "__main__":
    main()
