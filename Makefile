# Two entry points: `make demo` and `make test`. Both install what is missing first.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test bench clean

all: build

deps:
	scripts/install-deps

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	BUILD_DIR=$(abspath $(BUILD_DIR)) scripts/demo

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 2 --timeout 600

bench: deps
	bench/run
	bench/run-s3
	bench/run-stagein
	bench/run-credentials
	bench/run-airflow
	bench/run-cog

clean:
	rm -rf $(BUILD_DIR) build-release
