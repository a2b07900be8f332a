package check

import (
	"math"
	"math/rand"
	"testing"
)

func near(t *testing.T, what string, got, want, rel float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > rel*math.Abs(want)+1e-300 {
		t.Errorf("%s = %.10g, want %.10g", what, got, want)
	}
}

// Known values: tabulated critical points, and the closed forms of the
// chi-square tail for df = 1 (erfc), df = 2 (exp) and every even df.
func TestChiSquareSF(t *testing.T) {
	table := []struct {
		x    float64
		df   int
		want float64
	}{
		{3.841458820694124, 1, 0.05},
		{6.634896601021214, 1, 0.01},
		{5.991464547107979, 2, 0.05},
		{18.420680743952367, 2, 1e-4},
		{7.814727903251178, 3, 0.05},
		{9.487729036781154, 4, 0.05},
		{18.307038053275146, 10, 0.05},
		{1, 1, 0.31731050786291415},
		{0, 3, 1},
	}
	for _, c := range table {
		near(t, "SF", ChiSquareSF(c.x, c.df), c.want, 1e-9)
	}
	evenSF := func(x float64, df int) float64 { // e^{-x/2} Σ_{i<df/2} (x/2)^i / i!
		s, term := 0.0, 1.0
		for i := 0; i < df/2; i++ {
			if i > 0 {
				term *= x / 2 / float64(i)
			}
			s += term
		}
		return math.Exp(-x/2) * s
	}
	for _, x := range []float64{0.01, 0.5, 1, 2.5, 7, 15, 30, 60, 120} {
		near(t, "df1", ChiSquareSF(x, 1), math.Erfc(math.Sqrt(x/2)), 1e-9)
		near(t, "df3", ChiSquareSF(x, 3), math.Erfc(math.Sqrt(x/2))+math.Sqrt(2*x/math.Pi)*math.Exp(-x/2), 1e-9)
		for _, df := range []int{2, 4, 10, 40, 100} {
			near(t, "even df", ChiSquareSF(x, df), evenSF(x, df), 1e-9)
		}
	}
	for _, x := range []float64{0.1, 1, 3, 9} {
		near(t, "Q(1/2,x)", GammaQ(0.5, x), math.Erfc(math.Sqrt(x)), 1e-9)
	}
	if !math.IsNaN(ChiSquareSF(1, 0)) || !math.IsNaN(GammaQ(-1, 1)) {
		t.Error("bad arguments must give NaN")
	}
}

func TestBinomialSF(t *testing.T) {
	near(t, "Bin(10,.5)≥8", BinomialSF(10, 0.5, 8), 56.0/1024, 1e-12)
	near(t, "Bin(3,1/3)≥0", BinomialSF(3, 1.0/3, 0), 1, 0)
	near(t, "Bin(3,1/3)≥3", BinomialSF(3, 1.0/3, 3), 1.0/27, 1e-12)
	if BinomialSF(5, 0.5, 6) != 0 {
		t.Error("k > n")
	}
	// Normal approximation in the bulk: P(X ≥ mean) ≈ 1/2.
	if p := BinomialSF(3000, 1.0/3, 1000); p < 0.48 || p > 0.52 {
		t.Errorf("Bin(3000,1/3) ≥ 1000 = %g", p)
	}
}

func TestChiSquareCounts(t *testing.T) {
	stat, df, p := ChiSquare([]int{100, 100, 100})
	if stat != 0 || df != 2 || p != 1 {
		t.Errorf("uniform: %g %d %g", stat, df, p)
	}
	stat, df, p = ChiSquare([]int{0, 150, 150}) // Sattolo's first choice
	near(t, "stat", stat, 150, 1e-12)
	near(t, "p", p, math.Exp(-75), 1e-9)
	if df != 2 {
		t.Error(df)
	}
}

// The test is calibrated: under a fair shuffle its p-value is uniform, so
// at significance α it fails about α of the time (here α = 0.05 over 4000
// seeded runs of 300 samples: 200 ± 3σ ≈ 41 expected).
func TestChiSquareCalibrated(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	const runs, samples, alpha = 4000, 300, 0.05
	fails := 0
	for range runs {
		counts := make([]int, 3)
		for range samples {
			counts[firstOf(r, fisherYates)]++
		}
		if _, _, p := ChiSquare(counts); p < alpha {
			fails++
		}
	}
	if fails < 200-41 || fails > 200+41 {
		t.Fatalf("%d of %d fair runs below α=%g, want about %d", fails, runs, alpha, int(runs*alpha))
	}
}

// Shuffles of three candidates, as engines write them.
type shuffler func(r *rand.Rand, a []int)

func fisherYates(r *rand.Rand, a []int) {
	for i := len(a) - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		a[i], a[j] = a[j], a[i]
	}
}

// sattolo is the classic off-by-one: Intn(i) instead of Intn(i+1). Only
// cyclic permutations come out, so the first candidate is never first.
func sattolo(r *rand.Rand, a []int) {
	for i := len(a) - 1; i > 0; i-- {
		j := r.Intn(i)
		a[i], a[j] = a[j], a[i]
	}
}

// shortLoop is the other off-by-one: the loop stops before i = 1, so the
// first two positions are never swapped with each other.
func shortLoop(r *rand.Rand, a []int) {
	for i := len(a) - 1; i > 1; i-- {
		j := r.Intn(i + 1)
		a[i], a[j] = a[j], a[i]
	}
}

func noShuffle(*rand.Rand, []int) {}

func firstOf(r *rand.Rand, sh shuffler) int {
	a := []int{0, 1, 2}
	sh(r, a)
	return a[0]
}

// Power: with 300 samples at α = 1e-4, both off-by-one shuffles fail every
// one of 500 seeded runs; the fair one passes every one.
func TestChiSquarePower(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	const runs, samples, alpha = 500, 300, 1e-4
	for _, c := range []struct {
		name string
		sh   shuffler
		want int // failing runs
	}{{"fair", fisherYates, 0}, {"sattolo", sattolo, runs}, {"short loop", shortLoop, runs}, {"none", noShuffle, runs}} {
		fails, worst := 0, 0.0
		for range runs {
			counts := make([]int, 3)
			for range samples {
				counts[firstOf(r, c.sh)]++
			}
			_, _, p := ChiSquare(counts)
			if p < alpha {
				fails++
			}
			worst = math.Max(worst, p)
		}
		if fails != c.want {
			t.Errorf("%s: %d of %d runs failed at α=%g, want %d", c.name, fails, runs, alpha, c.want)
		}
		if c.want == runs {
			t.Logf("%s: every run failed; largest p-value %.3g", c.name, worst)
		}
	}
}
