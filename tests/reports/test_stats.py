#!/usr/bin/python3
"""Unit tests of reports/xrdstats.py: median, MAD, ranks and the Mann-Whitney U test on known samples."""
import itertools
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "reports"))
import xrdstats  # noqa: E402


def permutation_p(x, y):
    """Two-sided p of the U test by enumerating every split of the pooled values (the definition of 'exact')."""
    pooled = list(x) + list(y)
    n1, n2 = len(x), len(y)
    centre = n1 * n2 / 2.0

    def u_of(sample_idx):
        xs = [pooled[i] for i in sample_idx]
        ys = [pooled[i] for i in range(len(pooled)) if i not in sample_idx]
        return sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in xs for b in ys)

    observed = abs(u_of(range(n1)) - centre)
    splits = list(itertools.combinations(range(len(pooled)), n1))
    extreme = sum(1 for s in splits if abs(u_of(s) - centre) >= observed - 1e-12)
    return extreme / len(splits)


class MedianMad(unittest.TestCase):
    def test_odd_even(self):
        self.assertEqual(xrdstats.median([3, 1, 2]), 2)
        self.assertEqual(xrdstats.median([4, 1, 3, 2]), 2.5)
        self.assertEqual(xrdstats.median([7.5]), 7.5)

    def test_empty_raises(self):
        with self.assertRaises(ValueError):
            xrdstats.median([])

    def test_mad_is_unscaled(self):
        # deviations from the median 190.2: 2.2, 0, 2.9, 0.8, 2.7 -> median 2.2
        self.assertAlmostEqual(xrdstats.mad([188.0, 190.2, 193.1, 191.0, 187.5]), 2.2, places=9)
        self.assertEqual(xrdstats.mad([5, 5, 5]), 0)


class Ranks(unittest.TestCase):
    def test_ties_get_average_rank(self):
        ranks, ties = xrdstats.rankdata([10, 20, 20, 30, 20])
        self.assertEqual(ranks, [1.0, 3.0, 3.0, 5.0, 3.0])
        self.assertEqual(ties, [3])


class MannWhitney(unittest.TestCase):
    # The example of scipy.stats.mannwhitneyu's documentation (from Shier 2004): U = 17 for the males,
    # exact two-sided p = 0.1111..., asymptotic (continuity-corrected) 0.11134688653314041, without correction
    # 0.0864107329737, one-sided exact 'less' for females vs males 0.0555...
    males = [19, 22, 16, 29, 24]
    females = [20, 11, 17, 12]

    def test_documented_exact(self):
        r = xrdstats.mann_whitney_u(self.males, self.females)
        self.assertEqual(r.method, "exact")
        self.assertEqual(r.u1, 17.0)
        self.assertAlmostEqual(r.p, 0.1111111111111111, places=12)

    def test_documented_asymptotic(self):
        r = xrdstats.mann_whitney_u(self.males, self.females, method="asymptotic")
        self.assertAlmostEqual(r.p, 0.11134688653314041, places=12)
        r = xrdstats.mann_whitney_u(self.males, self.females, method="asymptotic", continuity=False)
        self.assertAlmostEqual(r.p, 0.0864107329737, places=10)

    def test_documented_one_sided(self):
        r = xrdstats.mann_whitney_u(self.females, self.males, alternative="less")
        self.assertEqual(r.u1, 3.0)
        self.assertAlmostEqual(r.p, 0.05555555555555555, places=12)

    def test_complete_separation_five_runs(self):
        # five repeats each, every current run slower: the smallest two-sided p, 2 / C(10, 5) = 2/252
        r = xrdstats.mann_whitney_u([100, 101, 102, 103, 104], [70, 71, 72, 73, 74])
        self.assertAlmostEqual(r.p, 2.0 / 252.0, places=12)
        self.assertAlmostEqual(xrdstats.min_two_sided_p(5, 5), 2.0 / 252.0, places=12)

    def test_identical_samples_give_p_one(self):
        self.assertEqual(xrdstats.mann_whitney_u([1, 2, 3], [1, 2, 3]).p, 1.0)
        self.assertEqual(xrdstats.mann_whitney_u([5, 5, 5], [5, 5, 5]).p, 1.0)

    def test_exact_matches_enumeration(self):
        cases = [([1.1, 2.3, 3.7, 9.0], [4.4, 5.2, 6.8]), ([3, 8, 1, 9, 12], [2, 4, 5, 6, 7, 10]),
                 ([0.5, 0.7], [0.6, 0.9, 1.4, 0.1])]
        for x, y in cases:
            with self.subTest(x=x, y=y):
                self.assertAlmostEqual(xrdstats.mann_whitney_u(x, y, method="exact").p, permutation_p(x, y), places=12)

    def test_one_small_side_is_exact_like_scipy_auto(self):
        x, y = [1.5, 7.2, 3.3], [2.1, 4.4, 5.0, 5.5, 6.1, 8.0, 8.8, 9.1, 9.9, 10.2, 11.7, 12.3]
        r = xrdstats.mann_whitney_u(x, y)
        self.assertEqual(r.method, "exact")
        self.assertAlmostEqual(r.p, permutation_p(x, y), places=12)
        self.assertEqual(xrdstats.mann_whitney_u(list(range(9)), [v + 0.5 for v in range(9)]).method, "asymptotic")

    def test_ties_use_the_corrected_normal_approximation(self):
        x, y = [1, 2, 2, 3, 3, 4, 5, 5], [3, 4, 4, 5, 6, 6, 7, 8]
        r = xrdstats.mann_whitney_u(x, y)
        self.assertEqual(r.method, "asymptotic")
        # the tie-corrected approximation lands near the permutation p-value
        self.assertAlmostEqual(r.p, permutation_p(x, y), delta=0.01)

    def test_too_few_runs_cannot_reach_five_percent(self):
        self.assertGreater(xrdstats.min_two_sided_p(3, 3), 0.05)  # 2/20
        self.assertGreater(xrdstats.min_two_sided_p(3, 4), 0.05)  # 2/35
        self.assertLess(xrdstats.min_two_sided_p(4, 4), 0.05)     # 2/70

    def test_bad_input(self):
        with self.assertRaises(ValueError):
            xrdstats.mann_whitney_u([], [1, 2])
        with self.assertRaises(ValueError):
            xrdstats.mann_whitney_u([1], [2], alternative="sideways")


if __name__ == "__main__":
    unittest.main()
