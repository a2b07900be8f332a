# faultline: the two jobs of the README, and helpers.
GO ?= go
REPORT ?= faultline-report

.PHONY: conformance test vet fmt fuzz bench ginkgo-p images images-if-docker

# The main job: the conformance suite against the Go engine on the embedded
# Toxiproxy, writing $(REPORT)/report.json. Exits 1 if anything FAILED.
conformance:
	$(GO) run ./cmd/faultline run --sdk go --scenarios scenarios --report $(REPORT)

# The tests: unit tests, checker tests and the Ginkgo conformance suite, under -race.
# With a Docker engine, the images are (re)built first so that the suite's
# containers-mode spec runs against this tree; without one, that spec says so.
test: images-if-docker
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

# The images for containers mode and docker-compose, built FROM scratch from
# static binaries built here: nothing is pulled.
IMAGE_FAULTLINE ?= faultline:local
IMAGE_TOXIPROXY ?= faultline-toxiproxy:2.12.0
images:
	mkdir -p docker/build
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o docker/build/faultline ./cmd/faultline
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w -X github.com/Shopify/toxiproxy/v2.Version=2.12.0' \
		-o docker/build/toxiproxy-server github.com/Shopify/toxiproxy/v2/cmd/server
	docker build -q -f docker/faultline.Dockerfile -t $(IMAGE_FAULTLINE) docker/build
	docker build -q -f docker/toxiproxy.Dockerfile -t $(IMAGE_TOXIPROXY) docker/build
	@# A rebuild leaves the previous image untagged: drop those (ours only).
	@docker image prune -f --filter label=org.faultline.image >/dev/null

images-if-docker:
	@if docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory images; \
	else echo "make: no Docker engine answers: images not built, containers-mode specs will skip"; fi

fmt:
	gofmt -l -w .

# Short fuzzing of the decoders (FUZZTIME=2m for longer).
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./wire -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	$(GO) test ./harness/scenario -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./harness/driver/stdio -run '^$$' -fuzz FuzzParseLine -fuzztime $(FUZZTIME)

# Benchmarks of faultline itself: loss observation latency per verb, window
# measurement error against an independent tap. BENCHTIME=100x for more.
BENCHTIME ?= 50x
bench:
	$(GO) test ./bench/ -run '^$$' -bench . -benchtime $(BENCHTIME)

# The conformance suite in parallel processes through the pinned ginkgo CLI.
ginkgo-p:
	$(GO) tool ginkgo -p --procs 2 .
