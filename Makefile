# kiemtra: the two commands are `make run` and `make test`.
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc)

BUILD_FUZZ ?= build-fuzz
BUILD_BENCH ?= build-bench
FUZZ_SECONDS ?= 20

.PHONY: run test build build-san build-fuzz fuzz deps deps-test lint bench clean corpus

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh build test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target kiemtra

build-san: deps-test
	@cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DKIEMTRA_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_SAN) -j $(JOBS)

# libFuzzer targets (clang), coverage-instrumented.
build-fuzz: deps-test
	@CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKIEMTRA_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) --target $$(ls tests/fuzz/fuzz_*.c | xargs -n1 basename | sed 's/\.c$$//')

# A longer campaign: make fuzz FUZZ_SECONDS=3600
fuzz: build-fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(BUILD_FUZZ)

run: build
	@scripts/run.sh

# Unit tests (Criterion) and integration tests (real PostgreSQL, real server),
# all built with AddressSanitizer and UndefinedBehaviorSanitizer.
test: build-san build-fuzz
	@FUZZ_BUILD=$(BUILD_FUZZ) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh $(BUILD_SAN)

# The standard exam scenario (2,000 students, 60 s) on a throwaway cluster;
# see docs/BENCHMARKS.md. STUDENTS=, DURATION=, THINK_MS=... override it.
bench:
	@scripts/deps.sh build bench
	@cmake -S . -B $(BUILD_BENCH) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_BENCH) -j $(JOBS) --target kiemtra
	@scripts/bench.sh $(BUILD_BENCH)

# Many gateways behind HAProxy, PostgreSQL with Patroni + etcd (scripts/ha/ha.py,
# docs/SCALE.md): HA_RUN=failover (kill -9 a gateway, then the primary), scale
# (1 gateway against 2), restore (base backup + WAL archive); HA_ARGS="--students
# 2000 --duration 60 ..." (see scripts/ha/ha.py --help).
.PHONY: ha
HA_RUN ?= failover
HA_ARGS ?=
ha:
	@scripts/deps.sh build ha
	@cmake -S . -B $(BUILD_BENCH) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_BENCH) -j $(JOBS) --target kiemtra
	@scripts/ha/ha.py $(HA_RUN) $(BUILD_BENCH) $(HA_ARGS)

lint: deps-test
	@scripts/deps.sh lint
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@scripts/lint.sh $(BUILD)

# Regenerates the .docx and question-sheet import corpora with LibreOffice
# (tests/corpus/docx/README.md, tests/corpus/xlsx/README.md).
corpus:
	@scripts/deps.sh corpus
	@python3 tests/corpus/docx/make.py
	@python3 tests/corpus/xlsx/make.py

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
