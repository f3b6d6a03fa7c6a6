"""Statistics for reports and regression checks: median, MAD and the Mann-Whitney U test, in plain Python.

The U test follows scipy.stats.mannwhitneyu (two-sided by default): the exact null distribution when a sample is
small and there are no ties, otherwise the normal approximation with tie and continuity corrections. Implemented
here so that reports need only Debian's python3 (no scipy).
"""
import math
from functools import lru_cache

__all__ = ["median", "mad", "MannWhitneyResult", "mann_whitney_u", "min_two_sided_p", "rankdata"]

# scipy's "auto" choice: exact when a sample has at most this many values and there are no ties (here also
# bounded in total size, to keep the exact distribution cheap; results files hold a handful of runs per row).
EXACT_MAX_N = 8
EXACT_MAX_TOTAL = 60


def median(values):
    """Median of a non-empty sequence (mean of the two middle values for an even count)."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        raise ValueError("median of an empty sequence")
    mid = n // 2
    return xs[mid] if n % 2 else 0.5 * (xs[mid - 1] + xs[mid])


def mad(values):
    """Median absolute deviation to the median, unscaled (the paper's and results.json's MAD)."""
    m = median(values)
    return median([abs(x - m) for x in values])


def rankdata(values):
    """1-based ranks, ties get the average of the ranks they span. Returns (ranks, tie group sizes > 1)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        avg = (i + j) / 2.0 + 1.0
        for k in range(i, j + 1):
            ranks[order[k]] = avg
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


@lru_cache(maxsize=None)
def _u_counts(n1, n2):
    """Number of orderings of n1 x's among n2 y's giving each value of U (count of (x, y) pairs with x > y)."""
    # f(n1, n2, u) = f(n1 - 1, n2, u - n2) + f(n1, n2 - 1, u): the largest value is an x (beats all n2 y's) or a y.
    if n1 == 0 or n2 == 0:
        return (1,)
    a = _u_counts(n1 - 1, n2)
    b = _u_counts(n1, n2 - 1)
    out = [0] * (n1 * n2 + 1)
    for u, c in enumerate(a):
        out[u + n2] += c
    for u, c in enumerate(b):
        out[u] += c
    return tuple(out)


def _exact_sf(u, n1, n2):
    """P(U >= u) under the null hypothesis, exactly."""
    counts = _u_counts(n1, n2)
    total = math.comb(n1 + n2, n1)
    u = max(0, int(math.ceil(u - 1e-9)))
    return sum(counts[u:]) / total


def _norm_sf(z):
    return 0.5 * math.erfc(z / math.sqrt(2.0))


class MannWhitneyResult:
    """u1: U of the first sample (pairs where x > y, ties count 1/2); p: p-value; method: 'exact' | 'asymptotic'."""

    def __init__(self, u1, p, method):
        self.u1, self.p, self.method = u1, p, method

    def __repr__(self):
        return "MannWhitneyResult(u1=%g, p=%.6g, method=%s)" % (self.u1, self.p, self.method)


def mann_whitney_u(x, y, alternative="two-sided", method="auto", continuity=True):
    """Mann-Whitney U test of x against y. alternative: 'two-sided', 'greater' (x tends to be larger) or 'less'."""
    x, y = list(x), list(y)
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("Mann-Whitney U test needs two non-empty samples")
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError("alternative must be 'two-sided', 'greater' or 'less'")
    ranks, ties = rankdata(x + y)
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2.0
    u2 = n1 * n2 - u1
    if alternative == "greater":
        u, factor = u1, 1.0
    elif alternative == "less":
        u, factor = u2, 1.0
    else:
        u, factor = max(u1, u2), 2.0
    if method == "auto":
        small = min(n1, n2) <= EXACT_MAX_N and n1 + n2 <= EXACT_MAX_TOTAL
        method = "exact" if (small and not ties) else "asymptotic"
    if method == "exact":
        p = _exact_sf(u, n1, n2)
    elif method == "asymptotic":
        n = n1 + n2
        tie_term = sum(t ** 3 - t for t in ties)
        var = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1))) if n > 1 else 0.0
        if var <= 0:  # every value identical: no evidence of a difference
            p = 1.0
        else:
            z = (u - n1 * n2 / 2.0 - (0.5 if continuity else 0.0)) / math.sqrt(var)
            p = _norm_sf(z)
    else:
        raise ValueError("method must be 'auto', 'exact' or 'asymptotic'")
    return MannWhitneyResult(u1, min(1.0, max(0.0, p * factor)), method)


def min_two_sided_p(n1, n2):
    """The smallest two-sided p-value the U test can reach with samples of these sizes (complete separation)."""
    if n1 == 0 or n2 == 0:
        return 1.0
    return min(1.0, 2.0 / math.comb(n1 + n2, n1))
