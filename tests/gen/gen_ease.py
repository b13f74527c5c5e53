#!/usr/bin/env python3
"""gen_ease.py -- reference EASE weights for tests/test_recommend.c (recommend-2.1).

Writes tests/data/ease_tiny.csv (interactions user,item of a fixed random 0/1
matrix, 12 users x 7 items) and tests/data/ease_tiny_b.txt: the lambda on the
first line, then one line per item pair "item_i item_j B_ij" with
B = I - P diag(1/diag P), P = (X^T X + lambda I)^-1 (Steck 2019), computed in
float64 with numpy.  Run from the repository root: /usr/bin/python3 tests/gen/gen_ease.py
"""
import numpy as np

rng = np.random.default_rng(7)
U, I, lam = 12, 7, 3.0
X = (rng.random((U, I)) < 0.45).astype(float)
X[0, :] = 0
X[0, [1, 4]] = 1                       # every user has something
X[X.sum(1) == 0, 0] = 1
items = [f"it{j * 3 + 2}" for j in range(I)]   # labels unlike indices
with open("tests/data/ease_tiny.csv", "w") as f:
    f.write("user,item\n")
    for u in range(U):
        for j in range(I):
            if X[u, j]:
                f.write(f"u{u},{items[j]}\n")
G = X.T @ X
P = np.linalg.inv(G + lam * np.eye(I))
B = -P / np.diag(P)[None, :]
np.fill_diagonal(B, 0.0)
with open("tests/data/ease_tiny_b.txt", "w") as f:
    f.write(f"{lam}\n")
    for i in range(I):
        for j in range(I):
            f.write(f"{items[i]} {items[j]} {B[i, j]:.12g}\n")
