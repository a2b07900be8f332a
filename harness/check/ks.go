package check

import (
	"math"
	"sort"
)

// The Kolmogorov–Smirnov test against Uniform(0, 1) for jitter_distribution,
// in pure Go: the exact one-sided tail (Birnbaum & Tingey 1951), a two-sided
// bound from it, and the statistic of samples known only to within an
// interval each.

// KSPlusSF is P(D⁺ ≥ d) for the one-sided statistic D⁺ = sup_t (F_n(t) − t)
// of n independent Uniform(0, 1) samples, by the exact finite sum of
// Birnbaum & Tingey (1951):
//
//	d · Σ_{j=0}^{⌊n(1−d)⌋} C(n, j) (1 − d − j/n)^(n−j) (d + j/n)^(j−1),
//
// summed in logs (every term is positive: no cancellation). By symmetry it
// is also P(D⁻ ≥ d) for D⁻ = sup_t (t − F_n(t)).
func KSPlusSF(n int, d float64) float64 {
	switch {
	case n <= 0 || math.IsNaN(d):
		return math.NaN()
	case d <= 0:
		return 1
	case d >= 1:
		return 0
	}
	nf := float64(n)
	lgN, _ := math.Lgamma(nf + 1)
	sum := 0.0
	for j := 0; j <= int(math.Floor(nf*(1-d))); j++ {
		jf := float64(j)
		x := 1 - d - jf/nf
		if x <= 0 { // (1 − d − j/n)^(n−j) with n − j ≥ 1 is 0
			continue
		}
		lgJ, _ := math.Lgamma(jf + 1)
		lgR, _ := math.Lgamma(nf - jf + 1)
		sum += math.Exp(lgN - lgJ - lgR + (nf-jf)*math.Log(x) + (jf-1)*math.Log(d+jf/nf))
	}
	return math.Min(d*sum, 1)
}

// KSSF bounds P(D ≥ d) for the two-sided statistic D = max(D⁺, D⁻) of n
// independent Uniform(0, 1) samples: min(1, 2·KSPlusSF(n, d)), the union of
// the two one-sided events. For d ≥ 1/2 the events are disjoint and the bound
// is exact; below it overstates the tail slightly (never understates it).
func KSSF(n int, d float64) float64 {
	return math.Min(1, 2*KSPlusSF(n, d))
}

// KSCritical is the smallest d with KSSF(n, d) ≤ alpha (bisection: KSSF
// decreases in d), so that P(D ≥ KSCritical) ≤ alpha for uniform samples.
func KSCritical(n int, alpha float64) float64 {
	lo, hi := 0.0, 1.0
	for range 60 { // 2^−60: far below any d that matters
		m := (lo + hi) / 2
		if KSSF(n, m) <= alpha {
			hi = m
		} else {
			lo = m
		}
	}
	return hi
}

// KSBand is the KS distance from Uniform(0, 1) of samples known only to lie
// in intervals [lo_i, hi_i]: the smallest D any choice of points in them can
// reach is at least
//
//	max( max_i (i/n − hi_(i)),  max_i (lo_(i) − (i−1)/n) )
//
// (hi and lo sorted ascending, clamped to [0, 1]), because for every t the
// empirical CDF of any such choice lies between #{hi_i ≤ t}/n and
// #{lo_i ≤ t}/n. So if each true sample is in its interval, KSBand is at most
// the true samples' D, and P(KSBand ≥ d) ≤ P(D ≥ d): measurement error within
// the intervals can only lower the statistic, never fake a failure. It
// returns the two-sided value and its two sides.
func KSBand(lo, hi []float64) (d, plus, minus float64) {
	n := len(lo)
	if n == 0 || len(hi) != n {
		return math.NaN(), math.NaN(), math.NaN()
	}
	clamp := func(xs []float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = math.Min(1, math.Max(0, x))
		}
		sort.Float64s(out)
		return out
	}
	l, h := clamp(lo), clamp(hi)
	nf := float64(n)
	for i := range n {
		plus = math.Max(plus, float64(i+1)/nf-h[i])
		minus = math.Max(minus, l[i]-float64(i)/nf)
	}
	return math.Max(plus, minus), plus, minus
}
