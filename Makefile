# kiemtra: the two commands are `make run` and `make test`.
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: run test build build-san deps deps-test lint bench clean

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

run: build
	@scripts/run.sh

# Unit tests (Criterion) and integration tests (real PostgreSQL, real server),
# all built with AddressSanitizer and UndefinedBehaviorSanitizer.
test: build-san
	@tests/run.sh $(BUILD_SAN)

lint: deps-test
	@scripts/deps.sh lint
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@scripts/lint.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
