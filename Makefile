# Thin wrapper around CMake: the README's two commands are `make run` and `make test`.
BUILD      ?= build
BUILD_SAN  ?= build-san
BUILD_FUZZ ?= build-fuzz
FUZZ_TIME  ?= 15
JOBS       ?= $(shell nproc)
LISTEN     ?= 127.0.0.1:8080
DB         ?= sqlite:./slawatch.db

.PHONY: all deps server build run demo test test-fast test-san test-browser fuzz bench clean

all: build

deps:
	@scripts/deps.sh

# the server alone (make run, make demo) ...
server: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target slawatch

# ... and with every test binary
build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: server
	$(BUILD)/slawatch serve --listen $(LISTEN) --db $(DB)

# The whole suite: a normal build, the dashboard in chromium, the same tests
# under ASan + UBSan, then every fuzz target for FUZZ_TIME seconds; each
# stage runs to its end, and one closing line counts them all.
test:
	@scripts/test-all.sh

test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j 2

test-san: deps
	@cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DSLAWATCH_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_SAN) -j $(JOBS)
	@cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j 2

# The dashboard in Debian's chromium (playwright-core from npm, no browser
# download): `slawatch demo` on a free port, login, live breach, config form
# (dashboard.test.mjs); every screen and action at 1440 px and on a 390 px
# phone, keyboard, contrast, empty states (screens.test.mjs).  One file at a
# time: each starts its own demo server and browser.
# Screenshots in $(BUILD)/browser-artifacts; SLAWATCH_DOCS_SCREENSHOT=1 also
# refreshes docs/dashboard.png.
# scripts/deps.sh --browser installs chromium, node and npm (Debian's unless
# the machine has them) and playwright-core as pinned in the lockfile.
test-browser: server
	@scripts/deps.sh --browser
	@cd tests/browser && SLAWATCH_BIN=$(abspath $(BUILD))/slawatch \
		SLAWATCH_ARTIFACTS=$(abspath $(BUILD))/browser-artifacts \
		node --test --test-concurrency=1 dashboard.test.mjs screens.test.mjs

demo: server
	$(BUILD)/slawatch demo --listen $(LISTEN)

# libFuzzer (clang from Debian): every parser a client reaches: JSON bodies
# and their validators (fuzz_json_body), NDJSON bulk lines (fuzz_ndjson),
# request targets, Host and query strings (fuzz_query), WebSocket frames
# (fuzz_ws_frames), timestamps (fuzz_time), and the config (fuzz_config);
# FUZZ_TIME seconds each (15: about 1.5 min in all).
fuzz:
	@scripts/deps.sh --fuzz
	@CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=Debug -DSLAWATCH_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_targets
	@scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_TIME)

bench: build
	@scripts/deps.sh --bench
	@bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
