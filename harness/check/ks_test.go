package check

import (
	"math"
	"math/rand"
	"sort"
	"testing"
)

// Closed forms of the one-sided tail: n = 1 (1 − d), n = 2 (1 − d − d²
// below 1/2, by integrating the order statistics), and every n above
// 1 − 1/n ((1 − d)^n: all samples below 1 − d).
func TestKSPlusSFClosedForms(t *testing.T) {
	for _, d := range []float64{0.01, 0.2, 0.5, 0.77, 0.99} {
		near(t, "n=1", KSPlusSF(1, d), 1-d, 1e-12)
	}
	for _, d := range []float64{0.05, 0.2, 0.45} {
		near(t, "n=2", KSPlusSF(2, d), 1-d-d*d, 1e-12)
	}
	for _, n := range []int{2, 5, 8, 30} {
		for _, d := range []float64{1 - 1/float64(n), 0.97, 0.999} {
			if d >= 1-1/float64(n) {
				near(t, "top", KSPlusSF(n, d), math.Pow(1-d, float64(n)), 1e-9)
			}
		}
	}
	if KSPlusSF(8, 0) != 1 || KSPlusSF(8, 1) != 0 || !math.IsNaN(KSPlusSF(0, 0.5)) {
		t.Error("edges")
	}
}

// Tabulated two-sided critical values (Miller 1956), where the union bound
// is within the table's rounding.
func TestKSCriticalTable(t *testing.T) {
	for _, c := range []struct {
		n     int
		alpha float64
		want  float64
	}{
		{5, 0.05, 0.56328}, {8, 0.05, 0.45427}, {10, 0.01, 0.48893}, {20, 0.05, 0.29408}, {30, 0.05, 0.24170},
	} {
		got := KSCritical(c.n, c.alpha)
		near(t, "critical", got, c.want, 1e-4)
		if KSSF(c.n, got) > c.alpha || KSSF(c.n, got-1e-9) <= c.alpha {
			t.Errorf("n %d: KSSF around %g is not alpha %g", c.n, got, c.alpha)
		}
	}
	// Large n: the one-sided tail tends to exp(−2x²) at d = x/√n.
	if p := KSPlusSF(1000, 1/math.Sqrt(1000)); math.Abs(p-math.Exp(-2)) > 0.005 {
		t.Errorf("n=1000: %g, asymptotically %g", p, math.Exp(-2))
	}
}

// ksPoint is the plain two-sided statistic of points.
func ksPoint(u []float64) float64 {
	d, _, _ := KSBand(u, u)
	return d
}

// Monte Carlo: the union bound is the tail above 1/2 and never below it
// (200,000 sets of 8, fixed seed; 5 standard errors).
func TestKSSFMonteCarlo(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	const sets, n = 200000, 8
	ds := []float64{0.3, 0.45, 0.5, 0.6, 0.72}
	hits := make([]int, len(ds))
	u := make([]float64, n)
	for range sets {
		for i := range u {
			u[i] = rng.Float64()
		}
		d := ksPoint(u)
		for i, x := range ds {
			if d >= x {
				hits[i]++
			}
		}
	}
	for i, x := range ds {
		p := KSSF(n, x)
		mc := float64(hits[i]) / sets
		se := math.Sqrt(p*(1-p)/sets) + 1/float64(sets)
		if mc > p+5*se || (x >= 0.5 && mc < p-5*se) {
			t.Errorf("P(D_8 ≥ %g): Monte Carlo %g, KSSF %g", x, mc, p)
		}
	}
}

// KSBand never exceeds the statistic of any points inside the intervals,
// and equals it for points.
func TestKSBandIsALowerBound(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for range 5000 {
		n := 1 + rng.Intn(20)
		lo, hi, pt := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range n {
			x := rng.Float64()*1.4 - 0.2
			w := rng.Float64() * 0.3
			lo[i], hi[i] = x-w, x+w
			pt[i] = math.Min(1, math.Max(0, lo[i]+rng.Float64()*(hi[i]-lo[i])))
		}
		band, _, _ := KSBand(lo, hi)
		if d := ksPoint(pt); band > d+1e-12 {
			t.Fatalf("band %g above the points' D %g", band, d)
		}
	}
	u := []float64{0.9, 0.1, 0.5}
	s := append([]float64(nil), u...)
	sort.Float64s(s)
	want := 0.0
	for i, x := range s { // the textbook formula
		want = math.Max(want, math.Max(float64(i+1)/3-x, x-float64(i)/3))
	}
	near(t, "points", ksPoint(u), want, 1e-12)
	if d, _, _ := KSBand(nil, nil); !math.IsNaN(d) {
		t.Error("no samples must be NaN")
	}
}
