# OTKV — set-up is two commands: `make run` and `make test`.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the build, the tests and the benchmarks need.
PACKAGES := g++ cmake ninja-build ccache libcaf-dev nlohmann-json3-dev libspdlog-dev catch2 \
            redis-tools redis-server python3 python3-redis netcat-openbsd libbenchmark-dev iproute2 \
            faketime etcd-server liblua5.1-0-dev libssl-dev libgoogle-perftools-dev
RUN_ARGS ?=
# Where `make run` keeps the op log and snapshots (git ignores it).
DATA_DIR ?= data

.PHONY: all deps bench-deps build run test test-asan test-ubsan test-tsan test-jepsen fuzz bench bench-restart bench-cluster bench-replication bench-failover bench-transactions bench-types clean format

all: build

## deps: install the Debian packages that are missing (apt-get).
deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

## build: configure and compile everything into $(BUILD_DIR)/.
build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

## run: set up, build and start the server on the defaults (127.0.0.1:7379).
run: build
	./$(BUILD_DIR)/otkv-server --dir $(DATA_DIR) $(RUN_ARGS)

## test: set up, build and run every test.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

## test-jepsen: the long fault run of a replication chain (docs/replication.md): 8 clients
## for JEPSEN_SECONDS while nodes are killed, paused and wiped, failing over through a
## private etcd; checks every history for linearizability and that no acknowledged write
## was lost.
JEPSEN_SECONDS ?= 180
test-jepsen: build
	cd tests/integration && OTKV_SERVER=$(CURDIR)/$(BUILD_DIR)/otkv-server \
	  python3 jepsen_chain.py --seconds $(JEPSEN_SECONDS)

## test-asan: every test against an AddressSanitizer + UndefinedBehaviorSanitizer build.
test-asan: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DOTKV_SANITIZE=address,undefined
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 OTKV_TIMING_SCALE=3 \
	  ctest --output-on-failure -j $(JOBS)

## test-ubsan: every test against an UndefinedBehaviorSanitizer-only build (faster than
## test-asan, which CI runs and which includes UBSan too); the first report fails the test.
test-ubsan: deps
	cmake -S . -B build-ubsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DOTKV_SANITIZE=undefined -DCMAKE_CXX_FLAGS=-fno-sanitize-recover=undefined
	cmake --build build-ubsan -j $(JOBS)
	cd build-ubsan && UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 OTKV_TIMING_SCALE=2 \
	  ctest --output-on-failure

## fuzz: libFuzzer (clang) on the parser and on command execution, FUZZ_SECONDS each; new
## corpus entries go to build-fuzz/corpus, crashes to build-fuzz/ (copy one into
## tests/fuzz/corpus/<target>/ to keep it as a regression test).
FUZZ_SECONDS ?= 60
fuzz: deps
	@command -v clang++ >/dev/null || (DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq clang)
	CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DOTKV_FUZZ=ON -DOTKV_SANITIZE=address,undefined,fuzzer-no-link
	cmake --build build-fuzz -j $(JOBS)
	for t in parser commands; do \
	  mkdir -p build-fuzz/corpus/$$t && \
	  (cd build-fuzz && ./fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    corpus/$$t ../tests/fuzz/corpus/$$t) || exit 1; \
	done

## test-tsan: every test against a ThreadSanitizer build (CAF itself rebuilt with TSan,
## from Debian's source package, into build-tsan/caf; a report makes the server exit 66).
test-tsan: deps
	tools/build-caf-tsan.sh build-tsan/caf
	cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOTKV_SANITIZE=thread \
	  -DCMAKE_PREFIX_PATH=$(CURDIR)/build-tsan/caf
	cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS="exitcode=66 halt_on_error=0" OTKV_TIMING_SCALE=5 \
	  ctest --output-on-failure

## bench: OTKV and redis-server side by side (ratios, JSON and a plot in bench/results/).
bench: build bench-deps
	python3 bench/run_bench.py $(BENCH_ARGS)

## bench-restart: restart time at 1M keys and p99 during snapshots, next to redis-server.
bench-restart: build
	python3 bench/restart_bench.py $(BENCH_ARGS)

## bench-replication: chains of 1-3 nodes under a read-mostly load, and write latency.
bench-replication: build
	python3 bench/replication_bench.py $(BENCH_ARGS)

## bench-failover: how long a chain's writes stop when its head is killed, and how long
## the returning node takes to rejoin with a full copy (etcd failover).
bench-failover: build
	python3 bench/failover_bench.py $(BENCH_ARGS)

## bench-transactions: MULTI/EXEC of 2 and 10 SETs over 1, 2 and 8 partitions, and EVALSHA
## of 1, 2 and 10 SETs, beside redis-server.
bench-transactions: build
	python3 bench/transaction_bench.py $(BENCH_ARGS)

## bench-types: memory per element of a 1M-element hash, set and sorted set, and HSET / LPUSH / SADD
## throughput at -P 1 and -P 16, beside redis-server.
bench-types: build
	python3 bench/types_bench.py $(BENCH_ARGS)

## bench-cluster: OTKV cluster next to Redis Cluster (1-3 nodes) and the cost of forwarding.
bench-cluster: build
	python3 bench/cluster_bench.py $(BENCH_ARGS)

bench-deps:
	@dpkg-query -W -f='$${Status}' gnuplot-nox 2>/dev/null | grep -q "ok installed" || \
	  (DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends gnuplot-nox)

## clean: remove the build directory.
clean:
	rm -rf $(BUILD_DIR)

## format: clang-format every C++ source.
format:
	find actors net store tests bench -name '*.[ch]pp' | xargs clang-format -i
