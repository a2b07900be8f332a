# faultline: the two jobs of the README, and helpers.
GO ?= go
REPORT ?= faultline-report

.PHONY: conformance test vet fmt fuzz bench ginkgo-p

# The main job: the conformance suite against the Go engine on the embedded
# Toxiproxy, writing $(REPORT)/report.json. Exits 1 if anything FAILED.
conformance:
	$(GO) run ./cmd/faultline run --sdk go --scenarios scenarios --report $(REPORT)

# The tests: unit tests, checker tests and the Ginkgo conformance suite, under -race.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

fmt:
	gofmt -l -w .

# Short fuzzing of the decoders (FUZZTIME=2m for longer).
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./wire -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	$(GO) test ./harness/scenario -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)

# Benchmarks of faultline itself: loss observation latency per verb, window
# measurement error against an independent tap. BENCHTIME=100x for more.
BENCHTIME ?= 50x
bench:
	$(GO) test ./bench/ -run '^$$' -bench . -benchtime $(BENCHTIME)

# The conformance suite in parallel processes through the pinned ginkgo CLI.
ginkgo-p:
	$(GO) tool ginkgo -p --procs 2 .
