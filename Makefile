# The two commands: `make run` and `make test`. Both install what is missing, then build.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
CONFIG ?= config/malpro.toml
JOBS ?= $(shell nproc)

.PHONY: setup configure build run test test-house test-unit test-asan test-tsan fuzz bench money-fuzz clean

setup:
	@bash scripts/setup.sh

# A unity build (CMake joins each target's sources, so names in anonymous namespaces are unique
# per target): the whole Release build takes about 10 min of CPU where one file at a time took
# 26, with the tests' own code at -O1 (tests/CMakeLists.txt).
configure: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_UNITY_BUILD=ON >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/malpro --config $(CONFIG) demo

# The house rules (format, file and function lengths), every test of the Release build (which
# compiles with -Werror), then the unit tests again under the sanitizers.
test: test-house build test-unit test-asan test-tsan

# clang-format, at most 800 lines a product file and 70 a function: scripts/check-house.sh.
test-house: setup
	@bash scripts/check-house.sh

test-unit: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 900

# The unit-test binaries (ctest label unit) built with ASan and UBSan at -O1 in ASAN_BUILD_DIR,
# stopping at the first error. A unity build (CMake joins each target's sources): it compiles
# in about half the time, and it needs names in anonymous namespaces to be unique per target.
ASAN_BUILD_DIR ?= build-asan
test-asan: setup
	@cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DMALPRO_SANITIZE=address,undefined -DCMAKE_UNITY_BUILD=ON >/dev/null
	@cmake --build $(ASAN_BUILD_DIR) -j $(JOBS) --target unit_tests
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 900 -L unit

# The event log's tests (every one runs the log's threads) built with TSan in TSAN_BUILD_DIR, a
# unity build like the others; tests/sanitizers/tsan.supp says what is not reported and why.
TSAN_BUILD_DIR ?= build-tsan
test-tsan: setup
	@cmake -S . -B $(TSAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DMALPRO_SANITIZE=thread -DCMAKE_UNITY_BUILD=ON >/dev/null
	@cmake --build $(TSAN_BUILD_DIR) -j $(JOBS) --target event_log_tests
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/sanitizers/tsan.supp \
	  ctest --test-dir $(TSAN_BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 900 -L tsan

# The libFuzzer targets of tests/fuzz (clang, ASan and UBSan, in build-fuzz), each for
# FUZZ_SECONDS over a copy of its seed corpus; see scripts/fuzz.sh and docs/RUNBOOK.md.
FUZZ_SECONDS ?= 60
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(JOBS) bash scripts/fuzz.sh

bench: build
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target log_bench projection_bench kafka_bench
	bash scripts/bench.sh

# The money rules against their reference model, on random seeds for MONEY_SECONDS seconds;
# every failing seed is printed as "money model: seed S failed" (replay it with
# MALPRO_MONEY_SEEDS=S). See docs/RUNBOOK.md.
MONEY_SECONDS ?= 600
money-fuzz: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target money_model_tests
	MALPRO_MONEY_SEEDS=random MALPRO_MONEY_SECONDS=$(MONEY_SECONDS) \
	  ./$(BUILD_DIR)/tests/projections/money_model_tests --gtest_filter='MoneyModelFuzz.*'

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(TSAN_BUILD_DIR) build-fuzz
