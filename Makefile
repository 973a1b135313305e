# Two entry points: `make demo` and `make test`. Both install what is missing first.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# The fuzz targets (fuzz/) in their own build: clang, libFuzzer, ASan + UBSan.
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 600
FUZZ_OUT ?= $(FUZZ_BUILD_DIR)/fuzz-out
FUZZ_TARGETS ?= jwt request_body key_path http_request s3_xml airflow credentials config sidecar cog image lambda_event

.PHONY: all deps build build-fuzz demo test fuzz bench lambda-package clean

all: build

deps:
	scripts/install-deps

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j $(JOBS)

build-fuzz: deps
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSCIGATE_FUZZ=ON -DSCIGATE_TESTS=OFF -DSCIGATE_BENCH=OFF
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target fuzz_targets

demo: build
	BUILD_DIR=$(abspath $(BUILD_DIR)) scripts/demo

# $(BUILD_DIR)/lambda/scigate-lambda.zip: the binary as an AWS Lambda custom runtime, with
# its shared libraries and loader (deploy/terraform/ deploys it).
lambda-package: build
	scripts/lambda-package --binary $(BUILD_DIR)/src/scigate --out $(BUILD_DIR)/lambda

# Every test: unit + integration (build/), then a short run of each fuzz target over its
# seed corpus (build-fuzz/).
test: build build-fuzz
	cd $(BUILD_DIR) && ctest --output-on-failure -j 2 --timeout 600
	cd $(FUZZ_BUILD_DIR) && ctest --output-on-failure -j 2 --timeout 600

# Long fuzzing, one target after another on one core (FUZZ_SECONDS each): new inputs go
# to $(FUZZ_OUT)/corpus/<target>, crashes to $(FUZZ_OUT)/reports/<target>; the committed
# corpus under fuzz/corpus is only read. See docs/FUZZING.md.
fuzz: build-fuzz
	@status=0; for t in $(FUZZ_TARGETS); do \
	  nice -n 19 fuzz/run-fuzzer --seconds $(FUZZ_SECONDS) --work $(FUZZ_OUT)/corpus/$$t \
	    --reports $(FUZZ_OUT)/reports/$$t $(FUZZ_BUILD_DIR)/fuzz/$${t}_fuzz fuzz/corpus/$$t || status=1; \
	done; exit $$status

bench: deps
	bench/run
	bench/run-s3
	bench/run-stagein
	bench/run-credentials
	bench/run-airflow
	bench/run-load
	bench/run-cog
	bench/run-tiles
	bench/run-webapp
	bench/run-deepzoom
	bench/run-instances
	bench/run-lambda

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_BUILD_DIR) build-release
