"""Small dense symmetric positive-definite systems: the smooth fit's 13 numbers, in plain Python
(a system this small costs less than a numeric library's call)."""

from __future__ import annotations

import math


def cholesky(a: list[list[float]]) -> list[list[float]]:
    """L with L Lᵀ = a (a pivot under 1e-12 is held there: the prior keeps every pivot positive)."""
    n = len(a)
    low = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = a[i][j] - sum(low[i][k] * low[j][k] for k in range(j))
            low[i][j] = math.sqrt(max(s, 1e-12)) if i == j else s / low[j][j]
    return low


def solve(low: list[list[float]], b: list[float]) -> list[float]:
    """x with (L Lᵀ) x = b."""
    return backward(low, forward(low, b))


def forward(low: list[list[float]], b: list[float]) -> list[float]:
    """y with L y = b."""
    y = [0.0] * len(b)
    for i in range(len(b)):
        y[i] = (b[i] - sum(low[i][k] * y[k] for k in range(i))) / low[i][i]
    return y


def backward(low: list[list[float]], y: list[float]) -> list[float]:
    """x with Lᵀ x = y."""
    n = len(y)
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (y[i] - sum(low[k][i] * x[k] for k in range(i + 1, n))) / low[i][i]
    return x


def log_det(low: list[list[float]]) -> float:
    """log |L Lᵀ|."""
    return 2 * sum(math.log(low[i][i]) for i in range(len(low)))
