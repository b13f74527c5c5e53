#!/usr/bin/python3
"""linear_gen.py -- bench data for bench/linear.sh: a 1M x 20 logistic table.

Writes bench/out/linear_1m_X.f32 (N*D float32, row-major), linear_1m_y.f32
(N float32 labels 0/1) and linear_1m.txt ("N D").  Features have different
means and scales and some correlation, like an unstandardised customer table;
the label is drawn from a logistic model.  Fixed seed: the same bytes every run.

Usage: /usr/bin/python3 bench/linear_gen.py [N]
"""
import os
import sys

import numpy as np

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
D = 20
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
os.makedirs(out, exist_ok=True)

rng = np.random.default_rng(2000)
Z = rng.standard_normal((N, D), dtype=np.float32)
# mix neighbouring columns so they correlate, then give them scales and offsets
Z[:, 1:] += 0.5 * Z[:, :-1]
scale = np.linspace(0.5, 3.0, D, dtype=np.float32)
shift = np.tile(np.array([0.0, 1.0, -2.0, 5.0], dtype=np.float32), D // 4)
X = (Z * scale + shift).astype(np.float32)
beta = rng.uniform(-0.6, 0.6, size=D) / scale
eta = -1.0 + (X.astype(np.float64) - shift) @ beta
y = (rng.uniform(size=N) < 1.0 / (1.0 + np.exp(-eta))).astype(np.float32)

X.tofile(os.path.join(out, "linear_1m_X.f32"))
y.tofile(os.path.join(out, "linear_1m_y.f32"))
with open(os.path.join(out, "linear_1m.txt"), "w") as f:
    f.write(f"{N} {D}\n")
print(f"wrote {out}/linear_1m_*.f32: {N} rows x {D} features, {y.mean():.3f} positive")
