# The two commands: `make run` and `make test`. Both install what is missing, then build.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
CONFIG ?= config/malpro.toml
JOBS ?= $(shell nproc)

.PHONY: setup configure build run test bench money-fuzz clean

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/malpro --config $(CONFIG) demo

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 900

bench: build
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
	rm -rf $(BUILD_DIR)
