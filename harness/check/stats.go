package check

import "math"

// Statistics for the load-balancing checkers, in pure Go (no dependency):
// the chi-square survival function through the regularized upper incomplete
// gamma function, and exact binomial tails.

// ChiSquareSF is P(X ≥ x) for X chi-square distributed with df degrees of
// freedom: Q(df/2, x/2).
func ChiSquareSF(x float64, df int) float64 {
	if df <= 0 || math.IsNaN(x) {
		return math.NaN()
	}
	if x <= 0 {
		return 1
	}
	return GammaQ(float64(df)/2, x/2)
}

// GammaQ is the regularized upper incomplete gamma function
// Q(a, x) = Γ(a, x)/Γ(a), for a > 0, x ≥ 0. Below x < a+1 it is 1 − P from
// the power series of P, above it the continued fraction of Q (modified
// Lentz), as in Numerical Recipes §6.2; both converge fast there.
func GammaQ(a, x float64) float64 {
	switch {
	case a <= 0 || x < 0 || math.IsNaN(a) || math.IsNaN(x):
		return math.NaN()
	case x == 0:
		return 1
	case math.IsInf(x, 1):
		return 0
	case x < a+1:
		return 1 - gammaPSeries(a, x)
	}
	return gammaQFraction(a, x)
}

const (
	gammaEps   = 1e-15
	gammaIters = 1000
	gammaTiny  = 1e-300
)

// gammaPrefix is x^a e^−x / Γ(a), in logs for range.
func gammaPrefix(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	return math.Exp(a*math.Log(x) - x - lg)
}

// gammaPSeries: P(a, x) = x^a e^−x / Γ(a+1) · Σ x^n / ((a+1)…(a+n)).
func gammaPSeries(a, x float64) float64 {
	ap, term := a, 1/a
	sum := term
	for range gammaIters {
		ap++
		term *= x / ap
		sum += term
		if math.Abs(term) < math.Abs(sum)*gammaEps {
			break
		}
	}
	return sum * gammaPrefix(a, x)
}

// gammaQFraction: Q(a, x) = x^a e^−x / Γ(a) · 1/(x+1−a− 1·(1−a)/(x+3−a− …)).
func gammaQFraction(a, x float64) float64 {
	b := x + 1 - a
	c := 1 / gammaTiny
	d := 1 / b
	h := d
	for i := 1; i <= gammaIters; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < gammaTiny {
			d = gammaTiny
		}
		c = b + an/c
		if math.Abs(c) < gammaTiny {
			c = gammaTiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < gammaEps {
			break
		}
	}
	return h * gammaPrefix(a, x)
}

// ChiSquare is Pearson's goodness-of-fit statistic of counts against equal
// expected counts, with its degrees of freedom and p-value.
func ChiSquare(counts []int) (stat float64, df int, p float64) {
	n := 0
	for _, c := range counts {
		n += c
	}
	k := len(counts)
	if k < 2 || n == 0 {
		return 0, 0, math.NaN()
	}
	e := float64(n) / float64(k)
	for _, c := range counts {
		d := float64(c) - e
		stat += d * d / e
	}
	return stat, k - 1, ChiSquareSF(stat, k-1)
}

// BinomialSF is P(X ≥ k) for X ~ Binomial(n, p), summed exactly in logs.
func BinomialSF(n int, p float64, k int) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	lgN, _ := math.Lgamma(float64(n + 1))
	lp, lq := math.Log(p), math.Log1p(-p)
	sum := 0.0
	for i := k; i <= n; i++ {
		lgI, _ := math.Lgamma(float64(i + 1))
		lgR, _ := math.Lgamma(float64(n - i + 1))
		sum += math.Exp(lgN - lgI - lgR + float64(i)*lp + float64(n-i)*lq)
	}
	return math.Min(sum, 1)
}
