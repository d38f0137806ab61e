# prescale — entry points. `make demo` and `make test` are all a new machine needs.
.PHONY: all deps stack-deps configure build demo test test-unit test-asan test-integration test-e2e fuzz fuzz-build stack-demo validate chaos bench bench-report bench-edge bench-tier crashtest-tier stack-up stack-down format format-check clean

BUILD_DIR ?= build
JOBS ?= 2
FUZZ_SECONDS ?= 60

all: build

# Debian packages, then web/'s npm packages (uPlot, inlined into report.html at build time).
deps:
	@bash scripts/install-deps.sh
	@bash scripts/web-deps.sh

configure: deps
	@cmake --preset default >/dev/null

build: configure
	@cmake --build --preset default -j $(JOBS)

demo: build
	@./$(BUILD_DIR)/prescale tournament --scenario seed
	@./$(BUILD_DIR)/prescale ablation --scenario seed

# Kafka jars, a Spark 3.5 SPARK_HOME and its Kafka source jars, S3Proxy's jars, cached in ~/.cache/prescale
# (only tests, benchmarks and the live stack need them; `make demo` does not).
stack-deps: deps
	@bash scripts/stack/deps.sh

test: build stack-deps
	@ctest --preset default -j $(JOBS)

test-unit: build
	@ctest --preset unit -j $(JOBS)

# The unit tests built with ASan+UBSan (gcc, -O1, any UB fails the test) in build-asan/.
test-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	@ctest --preset asan-unit -j $(JOBS)

# libFuzzer targets (fuzz/, clang, ASan+UBSan) in build-fuzz/: each runs FUZZ_SECONDS (60)
# from its seeds in fuzz/corpus/, one at a time; a table of executions and crashes.
fuzz-build: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

fuzz: fuzz-build
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

# End to end: rl vs hpa on the live stack (Kafka, Spark, the job), ~7 min. make test runs it too.
test-e2e: build stack-deps
	@ctest --preset default -R '^E2E\.' --output-on-failure

# The same as a demo: a readable live log and the rl-vs-hpa summary table (~7 min), on a traffic
# shape: SHAPE=burst (default), diurnal or llm (prescale race --shape; docs/sim2real.md).
stack-demo: build stack-deps
	@RACE_SHAPE=$(or $(SHAPE),burst) bash scripts/stack/race.sh

# The arena against the live stack (issue 16): the three shapes for hpa and rl, the arena
# calibrated from the burst run, each shape compared; out/validate/summary.json and report
# pages, after a warm-up run (32 min on this machine, 2026-11-27; not part of make test).
# docs/sim2real.md, "Validation".
validate: build stack-deps
	@bash scripts/stack/validate.sh

# Chaos on the live stack (issue 15 item 6; docs/controller.md, "Chaos"): the broker killed for
# 20 s, then redis-server, one Spark executor and S3Proxy, one after another, under the job,
# `prescale controller`, an edge agent and `prescale tier serve`; a table of what held and how
# fast it recovered, out/chaos/chaos.json (4.5 min measured, ~85 s of it the stack's start).
# Exit 1 if a case fails. Not part of make test but for its short case (tests/chaos_test.cpp).
chaos: build stack-deps
	@bash scripts/stack/chaos.sh

test-integration: build stack-deps
	@ctest --preset default -L integration -j $(JOBS)

bench: build
	@./$(BUILD_DIR)/bench/sim_bench --benchmark_min_time=0.5
	@./$(BUILD_DIR)/bench/edge_bench --benchmark_min_time=0.5
	@./$(BUILD_DIR)/prescale bench tournament --scenario seed --seeds 20
	@./$(BUILD_DIR)/prescale bench decision --policy rl

# report.html: size and Chromium open + draw time, the 20-seed seed tournament and a
# 120,000-step run (JSON; ~1 min).
bench-report: build
	@node scripts/bench/report.mjs --build $(BUILD_DIR)

# The edge agent vs kafka-producer-perf-test on a real broker it starts (JSON; ~2 min).
bench-edge: build stack-deps
	@bash scripts/bench/edge-throughput.sh

# The tiered store: each tier vs its reference (redis-benchmark, raw fsync'd writes, S3Proxy),
# JSON (~1 min); and the 500-round crash test (crashtest-tier, ~20 min). Both start their own servers.
bench-tier: build stack-deps
	@./$(BUILD_DIR)/prescale tier bench

# 500 rounds killing the worker, redis-server and S3Proxy at random points (~20 min on 2
# shared cores: each S3Proxy restart takes ~4-5 s). Not part of `make test`.
crashtest-tier: build stack-deps
	@./$(BUILD_DIR)/prescale tier crashtest --rounds 500 --format json

# The local stack on loopback under out/stack: Kafka (+ the iot-* topics), Mosquitto, Redis, S3Proxy,
# Spark 3.5 standalone and the IoT job with the prescale plugin (ports: scripts/stack/*.sh).
stack-up: stack-deps
	@bash scripts/stack/kafka.sh start
	@bash scripts/stack/kafka.sh topics iot-raw-data iot-processed iot-metrics iot-control iot-metadata
	@bash scripts/stack/mosquitto.sh start
	@bash scripts/stack/redis.sh start
	@bash scripts/stack/s3proxy.sh start
	@bash scripts/stack/spark.sh start
	@bash scripts/stack/iot-job.sh start

stack-down:
	@bash scripts/stack/iot-job.sh stop
	@bash scripts/stack/spark.sh stop
	@bash scripts/stack/s3proxy.sh stop
	@bash scripts/stack/redis.sh stop
	@bash scripts/stack/mosquitto.sh stop
	@bash scripts/stack/kafka.sh stop

format:
	@find src apps bench tests fuzz -name '*.cpp' -o -name '*.h' | xargs clang-format -i

format-check:
	@find src apps bench tests fuzz -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run --Werror

clean:
	@rm -rf $(BUILD_DIR)
