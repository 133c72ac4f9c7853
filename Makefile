# MeanField build, test and benchmark targets. Targets that build install the
# Debian packages they need first (run as root, or install them yourself).

SWIFT ?= swift
APT_PACKAGES := libfftw3-dev liblapacke-dev libopenblas-dev pkg-config
CONFIG ?= examples/cluster-usa.json
OUTPUT ?= out

.PHONY: all deps build test validate run bench clean

all: build

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) test -c release -Xswiftc -enable-testing --disable-swift-testing

# Long validations (convergence studies, large grids), skipped by `make test`.
validate: deps
	MEANFIELD_SLOW_TESTS=1 $(SWIFT) test -c release -Xswiftc -enable-testing --disable-swift-testing

run: build
	.build/release/meanfield run $(CONFIG) --output $(OUTPUT)

bench: build
	@bash Sources/meanfield-bench/run-bench.sh

clean:
	rm -rf .build
