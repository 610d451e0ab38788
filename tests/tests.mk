# tests/tests.mk -- test targets, included from the top-level Makefile.

# Tiny geo databases built at test time from tests/geo-test.csv
# (defines TEST_MMDB and the rules that build it).
include tests/geo.mk

# libFuzzer targets: fuzz, fuzz-seeds, fuzz-smoke (tests/fuzz/README.md).
include tests/fuzz.mk

CORPUS ?= ../shared/corpus

# Unit tests: one cmocka binary per module. TEST_GEO_DIR tells test_geo
# where the databases are.
unit: $(TEST_BINS) $(TEST_MMDB)
	$(Q)fail=0; for t in $(TEST_BINS); do \
		echo "  RUN     $$t"; \
		TEST_GEO_DIR=$(B)/tests/geo TEST_SRCDIR=tests $$t || fail=1; \
	done; exit $$fail

# Golden tests: every capture in pcaps/ against its reviewed expected output.
golden: $(PROG) $(TEST_MMDB)
	$(Q)python3 tests/golden.py --sensor $(PROG) --geo $(B)/tests/geo

# Write expected files for review (never run by make test).
golden-update: $(PROG) $(TEST_MMDB)
	$(Q)python3 tests/golden.py --sensor $(PROG) --geo $(B)/tests/geo --update

# A folder of captures read in one run: the shared corpus (and some of it
# twice) gives every flow as its capture read alone; an editcap-split
# capture read as a folder gives the whole.
folder: $(PROG)
	$(Q)python3 tests/folder_test.py --sensor $(PROG) --corpus $(CORPUS)

# Detection: vendor, device and decoy captures in pcaps/detect/ against
# the hand-written manifest tests/detection.json (alerts and
# identifications: recall, false alerts, unexpected identifications).
detection: $(PROG) $(TEST_MMDB)
	$(Q)python3 tests/detection.py --sensor $(PROG) --geo $(B)/tests/geo

# The HTML report in a real browser: the sensor over the detection
# captures with --report, the page opened in Debian's Chromium (headless,
# every network request blocked) driven by playwright-core from npm
# (tests/package.json, tests/package-lock.json); the fleet view
# (--from-redis) of two sensors pushing to one redis-server the test
# starts on a unix socket; the live report rewritten every second while
# the sensor captures on a veth pair (root). Writes screenshots,
# build/report/report.png, report-fleet.png and report-live.png. Under
# CI=true a missing chromium, node, redis-server or root fails.
REPORT_NODE := tests/node_modules/.package-lock.json

$(REPORT_NODE): tests/package.json tests/package-lock.json
	@echo "  NPM     tests/node_modules"
	$(Q)cd tests && npm ci --no-audit --no-fund --loglevel=error

.PHONY: report-test report-test-assets
report-test: report-test-assets
	$(Q)fail=0; for t in report_test report_fleet_test report_live_test; do \
		python3 tests/$$t.py --sensor $(PROG) --geo $(B)/tests/geo \
			--template $(REPORT_TEMPLATE) --out $(REPORT_DIR) || fail=1; \
	done; exit $$fail
report-test-assets: deps-report-test
	$(Q)$(MAKE) --no-print-directory all $(REPORT_TEMPLATE) $(TEST_MMDB) $(REPORT_NODE)

# Redis delivery against real redis-server instances on loopback: stream
# fields, Redis down/killed/out of memory/wrong password/unreachable, ACL
# user, unix socket, Sentinel discovery and failover.
redis: $(PROG) $(TEST_MMDB)
	$(Q)python3 tests/redis_test.py --sensor $(PROG) --geo $(B)/tests/geo

# Live capture on a veth pair in a network namespace the test creates:
# alerts and flows of replayed captures, --user, drops, a vanishing
# interface. Skipped (exit 0) when not root or without ip and tcpreplay.
live: $(PROG) $(TEST_MMDB)
	$(Q)python3 tests/live_test.py --sensor $(PROG) --geo $(B)/tests/geo

# Floods (SYN, UDP, fragments, DNS answers, alert storm, TLS buffers) with
# phone-home flows mixed in: bounds, eviction counters, alerts, peak memory
# under the documented formula.
floods: $(PROG) $(TEST_MMDB)
	$(Q)python3 tests/floods.py --sensor $(PROG) --geo $(B)/tests/geo

# Debian's interpreter, which sees the python3-* packages "make deps"
# installs (a python3 found first in PATH -- pyenv's, a virtualenv's --
# may not).
DEB_PYTHON ?= /usr/bin/python3

# The JSON Schemas of config/schema/ against every record and document of
# real runs (detection captures, pcaps/, detection off, live on lo as
# root), mutated records rejected; python3-jsonschema.
.PHONY: schema-test
schema-test: $(PROG) $(TEST_MMDB)
	$(Q)$(DEB_PYTHON) tests/schema_test.py --sensor $(PROG) --geo $(B)/tests/geo

# The metrics file (--metrics) parsed with Debian's python3-prometheus-client
# and compared with --stats of the same run (offline with Redis down,
# detection off, live on lo as root); live, a reader polls the file while
# it is replaced and must only see it whole.
.PHONY: metrics-test
metrics-test: $(PROG) $(TEST_MMDB)
	$(Q)$(DEB_PYTHON) tests/metrics_test.py --sensor $(PROG) --geo $(B)/tests/geo

# Command-line behaviour: exit codes, messages, inputs and outputs.
cli: $(PROG)
	$(Q)python3 tests/cli.py --sensor $(PROG)

# Flows and labels against ndpiReader over the shared corpus.
conformance: $(PROG)
	$(Q)python3 tests/conformance.py --sensor $(PROG) --corpus $(CORPUS)

# What the sensor names in the shared corpus: the captures of
# tests/corpus.json exactly so, every other capture nothing.
corpus: $(PROG) $(TEST_MMDB)
	$(Q)python3 tests/corpus_test.py --sensor $(PROG) --geo $(B)/tests/geo --corpus $(CORPUS)

# One worker or several: the same alerts, flow records and counters.
workers: $(PROG)
	$(Q)python3 tests/workers_test.py --sensor $(PROG) --corpus $(CORPUS)

# Corpus captures and corrupted copies of them must not crash the sensor.
robustness: $(PROG)
	$(Q)python3 tests/robustness.py $(PROG) $(CORPUS) --extra pcaps --extra pcaps/detect

# The whole suite under AddressSanitizer (with leak checking) and
# UndefinedBehaviorSanitizer: unit, golden, detection, command line, Redis,
# live capture, workers and robustness tests all run the sanitizer build.
# asan-X runs suite X on the sanitizer build (asan-build makes it); make
# test runs them alongside the rest.
ASAN_OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_SUITES := unit golden detection cli redis live conformance workers robustness
ASAN_MAKE := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	$(MAKE) --no-print-directory B=build/asan OPT="$(ASAN_OPT)"
.PHONY: asan asan-build $(ASAN_SUITES:%=asan-%)
asan: asan-build
	$(Q)$(ASAN_MAKE) $(ASAN_SUITES)
asan-build:
	$(Q)$(ASAN_MAKE) all build/asan/tests/geo/asn.mmdb $(UNIT_TESTS:%=build/asan/tests/test_%)
$(ASAN_SUITES:%=asan-%): asan-%:
	$(Q)$(ASAN_MAKE) $*

# The unit tests under valgrind: no invalid access, no leak.
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
valgrind: $(TEST_BINS) $(TEST_MMDB)
	$(Q)fail=0; for t in $(TEST_BINS); do \
		echo "  VALGRIND $$t"; \
		TEST_GEO_DIR=$(B)/tests/geo TEST_SRCDIR=tests $(VALGRIND) $$t > $$t.valgrind.log 2>&1 || \
			{ fail=1; tail -40 $$t.valgrind.log; }; \
	done; exit $$fail

# Packet rate and peak memory against ndpiReader on a large capture built
# from the corpus, then the highest rate live capture on a veth pair follows
# with < 0.1% dropped (root only; skipped otherwise). Figures only, never
# pass/fail.
bench: deps
	$(Q)$(MAKE) --no-print-directory all $(B)/tests/bench_redis
	$(Q)python3 tests/bench.py --sensor $(PROG) --corpus $(CORPUS) --out $(B)/bench \
		--bench-redis $(B)/tests/bench_redis
	$(Q)python3 tests/bench_live.py --sensor $(PROG) --capture $(B)/bench/bench.pcap \
		--out $(B)/bench
