# faultline: the two jobs of the README, and helpers.
GO ?= go
REPORT ?= faultline-report

.PHONY: conformance test vet fmt generate fuzz bench ginkgo-p images images-if-docker soak drivers certify deps example

# The main job: the conformance suite against the Go engine on the embedded
# Toxiproxy, writing $(REPORT)/report.json. Exits 1 if anything FAILED.
conformance:
	$(GO) run ./cmd/faultline run --sdk go --scenarios scenarios --label '!opt-in' --report $(REPORT)

# The tests: unit tests, checker tests and the Ginkgo conformance suite, under
# -race, the Go drivers' shared kit and each real library's driver's own
# tests (Go modules, Python unittest, node --test).
# With a Docker engine, the images are (re)built first so that the suite's
# containers-mode spec runs against this tree; without one, that spec says so.
test: deps images-if-docker
	$(GO) vet ./...
	cd drivers/kit && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 5m ./...
	cd drivers/nats.go && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 5m ./...
	cd drivers/paho.mqtt.golang && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 5m ./...
	cd drivers/grpc-go && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 5m ./...
	/usr/bin/python3 -m unittest discover -s drivers/pykit
	/usr/bin/python3 -m unittest discover -s drivers/paho-mqtt-python
	/usr/bin/python3 -m unittest discover -s drivers/grpcio-python
	node --test drivers/mqtt.js/test/
	$(GO) test -race -count=1 -timeout 20m ./...
	$(MAKE) --no-print-directory example

# The example module of docs/api.md, as an SDK team uses it: copied outside
# this repository, its faultline requirement replaced by this tree, built
# and run under go test (scenarios/reconnect through faultline.Run).
example:
	d=$$(mktemp -d) && cp -r docs/examples/go-sdk-conformance/. $$d && cd $$d && \
	$(GO) mod edit -replace github.com/faultline/faultline=$(CURDIR) && \
	GOFLAGS=-mod=mod $(GO) vet ./... && GOFLAGS=-mod=mod $(GO) test -count=1 -timeout 5m ./... && \
	cd / && rm -rf $$d

# The Debian packages behind the real servers and libraries certified here:
# the mosquitto broker, two MQTT clients packaged for Debian's own
# interpreters (python3-paho-mqtt is for /usr/bin/python3) and gRPC's C core
# for Python (python3-grpcio, also for /usr/bin/python3). Installed when
# missing (as root, apt-get update first); otherwise named, and the target
# fails.
DEBS ?= mosquitto python3-paho-mqtt node-mqtt python3-grpcio
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "deps: missing Debian packages:$$missing (as root: apt-get update && apt-get install$$missing)"; exit 2; fi; \
	echo "deps: installing$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing

# The drivers of real client libraries, one Go module each under drivers/
# (the core module never depends on a library it certifies), built into
# bin/drivers/<library>.
# bin/go.mod makes bin/ a module of its own: the go command would otherwise
# read the binary bin/drivers/nats.go as Go source in `go build ./...`.
drivers: deps
	@mkdir -p bin/drivers
	@[ -f bin/go.mod ] || printf 'module faultline.invalid/bin\n' > bin/go.mod
	cd drivers/nats.go && $(GO) build -o ../../bin/drivers/nats.go .
	cd drivers/paho.mqtt.golang && $(GO) build -o ../../bin/drivers/paho.mqtt.golang .
	cd drivers/grpc-go && $(GO) build -o ../../bin/drivers/grpc-go .
	@# The Python and JavaScript libraries are Debian's, for Debian's
	@# interpreters: a launcher runs each driver with them.
	@printf '#!/bin/sh\nexec /usr/bin/python3 "%s/drivers/paho-mqtt-python/driver.py" "$$@"\n' "$(CURDIR)" > bin/drivers/paho-mqtt-python
	@printf '#!/bin/sh\nexec node "%s/drivers/mqtt.js/driver.js" "$$@"\n' "$(CURDIR)" > bin/drivers/mqtt.js
	@printf '#!/bin/sh\nexec /usr/bin/python3 "%s/drivers/grpcio-python/driver.py" "$$@"\n' "$(CURDIR)" > bin/drivers/grpcio-python
	@chmod +x bin/drivers/paho-mqtt-python bin/drivers/mqtt.js bin/drivers/grpcio-python

# Certify one library (SDK=nats.go): its driver over its protocol's
# scenarios against the fake server, then against the real server behind
# the same links (scenarios labelled fake-only use levers a real server has
# not), then every verdict that differs between the two (none expected: a
# difference is a bug in the fake or a documented reason). Reports go to
# $(CERTIFY)/<library> and $(CERTIFY)/<library>-real. A library's FAILED
# findings do not fail this target; a run that could not run, or a verdict
# that differs between the servers, does.
# SDK=mqtt certifies each of $(MQTT_CLIENTS) so, then merges their reports
# against the fake broker into one client × requirement matrix in
# $(CERTIFY)/mqtt-matrix (the mosquitto runs must agree with them).
# The gRPC clients (grpc-go, grpcio-python; SDK=grpc both, merged into
# $(CERTIFY)/grpc-matrix) run once: the grpc kind is the grpc-go server
# library itself, not a fake, so there is no second server to agree with.
SDK ?= nats.go
CERTIFY ?= faultline-report/certify
MQTT_CLIENTS ?= paho.mqtt.golang paho-mqtt-python mqtt.js
GRPC_CLIENTS ?= grpc-go grpcio-python
certify: drivers
	$(GO) build -buildvcs=auto -o bin/faultline ./cmd/faultline
	@case "$(SDK)" in \
	  nats.go) dir=scenarios/nats; swap=nats=nats-server ;; \
	  paho.mqtt.golang|paho-mqtt-python|mqtt.js) dir=scenarios/mqtt; swap=mqtt=mosquitto ;; \
	  grpc-go|grpcio-python) dir=scenarios/grpc; swap= ;; \
	  grpc) start=$$(date +%s); rc=0; \
	    for l in $(GRPC_CLIENTS); do $(MAKE) --no-print-directory certify SDK=$$l || rc=$$?; done; \
	    ./bin/faultline report --merge $(foreach l,$(GRPC_CLIENTS),$(CERTIFY)/$(l)/report.json ) --out $(CERTIFY)/grpc-matrix || rc=$$?; \
	    echo "certify: grpc ($(GRPC_CLIENTS)) in $$(( $$(date +%s) - start ))s; matrix in $(CERTIFY)/grpc-matrix"; exit $$rc ;; \
	  mqtt) start=$$(date +%s); rc=0; \
	    for l in $(MQTT_CLIENTS); do $(MAKE) --no-print-directory certify SDK=$$l || rc=$$?; done; \
	    ./bin/faultline report --merge $(foreach l,$(MQTT_CLIENTS),$(CERTIFY)/$(l)/report.json ) --out $(CERTIFY)/mqtt-matrix || rc=$$?; \
	    echo "certify: mqtt ($(MQTT_CLIENTS)) in $$(( $$(date +%s) - start ))s; matrix in $(CERTIFY)/mqtt-matrix"; exit $$rc ;; \
	  *) echo "certify: no certification for SDK=$(SDK) (known: nats.go, paho.mqtt.golang, paho-mqtt-python, mqtt.js, mqtt, grpc-go, grpcio-python, grpc)"; exit 2 ;; \
	esac; \
	start=$$(date +%s); \
	./bin/faultline run --sdk bin/drivers/$(SDK) --scenarios $$dir --report $(CERTIFY)/$(SDK); rc=$$?; \
	[ $$rc -le 1 ] || exit $$rc; \
	if [ -z "$$swap" ]; then echo "certify: $(SDK) in $$(( $$(date +%s) - start ))s (its server kind is the real server library: no second server)"; exit 0; fi; \
	./bin/faultline run --sdk bin/drivers/$(SDK) --scenarios $$dir --label '!fake-only' --server-kind $$swap --report $(CERTIFY)/$(SDK)-real; rc=$$?; \
	[ $$rc -le 1 ] || exit $$rc; \
	./bin/faultline report --diff $(CERTIFY)/$(SDK)/report.json $(CERTIFY)/$(SDK)-real/report.json; rc=$$?; \
	echo "certify: $(SDK) in $$(( $$(date +%s) - start ))s"; exit $$rc

# The images for containers mode and docker-compose, built FROM scratch from
# static binaries built here: nothing is pulled.
IMAGE_FAULTLINE ?= faultline:local
IMAGE_TOXIPROXY ?= faultline-toxiproxy:2.12.0
images:
	mkdir -p docker/build
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -trimpath -ldflags='-s -w' -o docker/build/faultline ./cmd/faultline
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

# Rewrite what is generated from the registries (checkers, fault verbs,
# server kinds, requirements) and the checkers' Go comments: the
# registry-derived parts of harness/scenario/schema.json and the generated
# blocks of docs/ (parameter tables, checks by requirement). Tests fail when
# either is stale.
generate:
	$(GO) test ./harness/scenario -count=1 -run '^TestSchemaIsGenerated$$' -update
	$(GO) test ./harness/runner -count=1 -run '^TestGeneratedDocs$$' -update

# Short fuzzing of the decoders, one target at a time (FUZZTIME=3m for longer).
FUZZTIME ?= 20s
# Go 1.26's fuzz coordinator can report "context deadline exceeded" as a
# failure when -fuzztime runs out while a worker is busy, with no input at
# fault (golang/go#75804, fixed in Go 1.27). A real finding always writes a
# reproducer ("Failing input written to"): only a failure with that exact
# signature and no reproducer is run again, once; any other failure fails.
FUZZ_TARGETS = ./wire:FuzzDecode ./harness/scenario:FuzzParse ./harness/driver/stdio:FuzzParseLine \
	./wire/platform:FuzzDecode ./packs/nats/wire:FuzzParse ./packs/mqtt/real:FuzzParseLine ./packs/mqtt/wire:FuzzDecode
fuzz:
	@set -u; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  for try in 1 2; do \
	    echo "$(GO) test $$pkg -run '^$$' -fuzz $$fn -fuzztime $(FUZZTIME)"; \
	    out=$$($(GO) test $$pkg -run '^$$' -fuzz $$fn -fuzztime $(FUZZTIME) 2>&1); rc=$$?; echo "$$out"; \
	    [ $$rc -eq 0 ] && break; \
	    if [ $$try -eq 1 ] && echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
	      echo "fuzz: $$pkg $$fn: the coordinator's deadline race (golang/go#75804, no input at fault): once more"; continue; fi; \
	    exit $$rc; \
	  done; \
	done

# Benchmarks of faultline itself, and one table of their numbers: loss
# observation latency per verb, window measurement error against an
# independent tap, proxied throughput against direct loopback, memory per
# session at 1,000 sessions; with SUITE=1 (the default) also the suite's wall
# time, serial against its scheduled waits and under ginkgo -p against
# serial (about 5 minutes more). BENCHTIME=100x for more samples.
BENCHTIME ?= 50x
SUITE ?= 1
bench:
	$(GO) run ./bench/cmd/benchreport -benchtime $(BENCHTIME) -suite=$(if $(filter 1,$(SUITE)),true,false)

# Soak: the whole suite N times under -race from one race-built binary, then
# every result (scenario × requirement verdict, and each scenario's harness
# problems) that changed between runs: zero is the bar. One seed for all
# runs, so what changes is timing. A run that exits other than 0 or 1 (a
# data race exits 66) fails the soak too. SOAK_LABEL narrows the scenarios
# (default '!opt-in': the 10,000-client scenario is opt-in, docs/scale-out.md;
# e.g. SOAK_LABEL='!scale && !opt-in'); each run's output is $(SOAK)/run-NN.log.
N ?= 20
SOAK ?= out/soak
SOAK_LABEL ?= !opt-in
soak:
	rm -rf $(SOAK) && mkdir -p $(SOAK)
	$(GO) build -buildvcs=auto -race -o $(SOAK)/faultline ./cmd/faultline
	@bad=0; for i in $$(seq -w 1 $(N)); do \
		start=$$(date +%s); \
		$(SOAK)/faultline run --scenarios scenarios --label '$(SOAK_LABEL)' --report $(SOAK)/run-$$i >$(SOAK)/run-$$i.log 2>&1; rc=$$?; \
		echo "soak: run $$i of $(N): exit $$rc in $$(( $$(date +%s) - start ))s: $$(tail -n 1 $(SOAK)/run-$$i.log | sed 's/; reports in .*$$//')"; \
		if [ $$rc -gt 1 ] || grep -q 'DATA RACE' $(SOAK)/run-$$i.log; then echo "soak: run $$i: exit $$rc or a data race, see $(SOAK)/run-$$i.log"; bad=1; fi; \
	done; \
	$(SOAK)/faultline report --changes $(SOAK)/run-*/report.json || bad=1; \
	exit $$bad

# The conformance suite in parallel processes through the pinned ginkgo CLI.
ginkgo-p:
	$(GO) tool ginkgo -p --procs 2 .
