# Egress Sensor -- top-level Makefile.
#
#   make            build build/egress-sensor
#   make deps       install the Debian packages the build, tests and bench need
#   make geo        fetch the free DB-IP country database, build the ASN database
#                   (into geo/data, or GEO_DIR=/var/lib/egress-sensor/geo)
#   make report     the report page template (--report), Chart.js inlined
#   make demo       deps + build + geo + report, then analyse the bundled example capture
#   make test       deps + build + every test (unit, golden, detection, corpus, asan, ...)
#   make asan       ASan+UBSan build and the robustness tests under it
#   make bench      packet rate and peak memory against ndpiReader
#   make format     reformat the C sources with the project's .clang-format
#   make check-format  fail when a C source differs from that style
#   make install    the program, configuration, pack, report template, man pages,
#                   systemd unit, sysusers and logrotate files (PREFIX, DESTDIR,
#                   bindir, sysconfdir, ...: see config/install.mk); make uninstall
#   make deb        a Debian package, build/deb/egress-sensor_VERSION_ARCH.deb
#
# Flags: CFLAGS/CPPFLAGS/LDFLAGS add to ours; OPT replaces the optimisation flags;
# WERROR=1 turns warnings into errors (CI sets it); V=1 shows commands.

VERSION := 0.1.0
B ?= build

PKGS := libpcap libndpi libmaxminddb jansson libconfig libxxhash libcrypto hiredis

# Debian packages: the build, the tests (python3-jsonschema validates the
# records against config/schema/, python3-prometheus-client parses the
# metrics file), the benchmark, and the geo builder.
DEB_BUILD := build-essential pkg-config libpcap-dev libndpi-dev libmaxminddb-dev \
	libhiredis-dev libcmocka-dev libjansson-dev libconfig-dev libxxhash-dev libssl-dev
DEB_TEST := libndpi-bin mmdb-bin libmaxmind-db-writer-perl python3 python3-scapy \
	redis-server tcpreplay clang clang-format libclang-rt-14-dev valgrind iproute2 time \
	wireshark-common python3-jsonschema python3-prometheus-client
DEB_GEO := libmaxmind-db-writer-perl ca-certificates
# The report's browser test: Debian's Chromium, driven from Node.js.
DEB_REPORT_TEST := chromium
# The package and its tests: Debian's packaging tools, lintian, the man
# page renderer, systemd-analyze, logrotate.
DEB_PACKAGING := debhelper dpkg-dev lintian man-db groff-base systemd logrotate

OPT ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wpointer-arith -Wcast-qual -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif

# System headers (nDPI's in particular) are not ours to warn about.
PKG_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DSENSOR_VERSION=\"$(VERSION)\" $(PATH_DEFS) $(OPT) $(WARN) \
	-MMD -MP -Isensor -Igeo -Idissectors $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(OPT) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

# The pipeline, one file per stage (see README "Source layout").
LIB_SRCS := \
	sensor/decode.c sensor/decode-ip.c sensor/decode-tunnel.c \
	sensor/netset.c sensor/community-id.c sensor/conf-file.c sensor/config.c sensor/dn.c \
	geo/geo.c \
	sensor/counters.c sensor/lru-map.c sensor/flow.c sensor/frag.c sensor/classify.c sensor/enrich.c \
	sensor/output-json.c sensor/output-json-flow.c sensor/output-metrics.c sensor/stats.c \
	sensor/pipeline.c \
	sensor/match-domain.c sensor/sig-load.c sensor/signature.c sensor/dns-cache.c sensor/detect.c \
	sensor/alerts.c sensor/assets.c sensor/tls-hello.c sensor/quic-initial.c sensor/ja4.c \
	sensor/evidence.c sensor/output-report.c sensor/device.c sensor/fleet.c \
	dissectors/registry.c dissectors/dns.c dissectors/fortiguard.c dissectors/fgfm.c \
	dissectors/checkpoint.c dissectors/velocloud.c dissectors/carbonblack.c \
	dissectors/checkpoint-ccp.c dissectors/avast.c \
	sensor/source-pcap-file.c sensor/source-pcap-live.c sensor/privs.c sensor/options.c \
	sensor/spool.c sensor/redis-url.c sensor/redis-link.c sensor/redis-record.c \
	sensor/redis-assets.c sensor/redis-stats.c sensor/output-redis.c sensor/source-redis.c \
	sensor/workers.c sensor/live-workers.c sensor/reload.c sensor/log.c sensor/run.c sensor/inputs.c sensor/ndpi-caches.c sensor/term.c \
	sensor/run-fleet.c

MAIN_SRCS := sensor/main.c

UNIT_TESTS := decode netset community_id geo config flow frag lru_map classify enrich output ja4 \
	dissectors dns dns_cache alerts signature match_domain spool redis_url output_redis evidence \
	report reload device dn term fleet metrics

LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
MAIN_OBJS := $(MAIN_SRCS:%.c=$(B)/%.o)
PROG := $(B)/egress-sensor
LIB := $(B)/libsensor.a
TEST_BINS := $(UNIT_TESTS:%=$(B)/tests/test_%)

.PHONY: all deps deps-geo deps-report deps-report-test report geo demo format check-format test unit golden golden-update detection corpus cli folder redis live floods conformance workers robustness \
	asan valgrind bench clean

all: $(PROG)

$(PROG): $(MAIN_OBJS) $(LIB)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJS) $(LIB) $(LIBS)

$(LIB): $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tests/test_%: tests/test_%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(LIB) $(LIBS) -lcmocka

$(B)/tests/bench_%: tests/bench_%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(LIB) $(LIBS)

-include $(LIB_OBJS:.o=.d) $(MAIN_OBJS:.o=.d) $(TEST_BINS:=.d)

# ---------------------------------------------------------------- set-up

# Install what is missing; as root directly, otherwise through sudo.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "  DEPS   $$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(DEB_BUILD) $(DEB_TEST) $(DEB_PACKAGING))

# npm (with Node.js), unless the machine has it already.
define npm_install
	@command -v npm >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends npm; }
endef

deps-geo:
	$(call apt_install,$(DEB_BUILD) $(DEB_GEO))
	$(call npm_install)

deps-report:
	$(call apt_install,ca-certificates openssl)
	$(call npm_install)

deps-report-test: deps-report
	$(call apt_install,$(DEB_REPORT_TEST))

# GEO_DIR: where the databases go; an installed sensor reads them from
# /var/lib/egress-sensor/geo (make geo GEO_DIR=/var/lib/egress-sensor/geo),
# and make install copies them there from GEO_DIR when they are present.
GEO_DIR ?= geo/data

geo: deps-geo
	$(Q)sh geo/fetch-geo.sh $(GEO_DIR)

# The report template (--report): the page in sensor/report/ with its
# styles, scripts and Chart.js (npm package chart.js, pinned) inlined. The
# first build fetches the package (npm pack) and keeps it in build/report,
# so later builds need no network. The sensor's default report.template is
# this file.
REPORT_DIR := build/report
REPORT_TEMPLATE := $(REPORT_DIR)/report-template.html
REPORT_SRCS := sensor/report/report.html sensor/report/report.css sensor/report/report.js \
	sensor/report/build-report.sh

report: deps-report
	$(Q)$(MAKE) --no-print-directory $(REPORT_TEMPLATE)

$(REPORT_TEMPLATE): $(REPORT_SRCS)
	@echo "  REPORT  $@"
	$(Q)sh sensor/report/build-report.sh $@

# The quick-start job: analyse the bundled example capture, alerts on
# standard output and the report in build/report/example-report.html.
demo: deps-geo
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory geo
	$(Q)$(MAKE) --no-print-directory report
	$(Q)$(PROG) -c config/sensor.conf -r pcaps/example.pcap --alerts - \
		--report $(REPORT_DIR)/example-report.html
	@echo "report: $(REPORT_DIR)/example-report.html"

# ---------------------------------------------------------------- tests

include tests/tests.mk

# make install, make uninstall, make deb, and their tests.
include config/install.mk

# make test: what is missing installed, the style checked, then the three
# builds (normal, sanitizers, fuzzers) and the report's assets made side by
# side, then every suite -- normal, under the sanitizers, the fuzz smoke
# runs -- TEST_JOBS at a time. Most suites spend their time waiting (on
# Redis, a veth, a browser), so more suites than cores keep both cores
# busy; each suite's output is printed whole when it ends (-O). The
# suites are independent: each makes its own temporary folders, ports,
# namespaces and servers.
TEST_JOBS ?= 4
TEST_SUITES := unit golden detection corpus cli folder redis live floods conformance workers valgrind \
	schema-test metrics-test \
	report-test asan-unit asan-golden asan-detection asan-cli asan-redis asan-live \
	asan-conformance asan-workers asan-robustness fuzz-smoke man-test install-test deb-test

test: deps deps-report-test
	$(Q)$(MAKE) --no-print-directory check-format
	$(Q)$(MAKE) --no-print-directory -j2 test-builds
	$(Q)$(MAKE) --no-print-directory -j$(TEST_JOBS) -O test-suites
	@echo "make test: every suite passed"

.PHONY: test-builds test-suites
test-builds: all $(TEST_BINS) $(TEST_MMDB) asan-build fuzz fuzz-seeds report-test-assets
test-suites: $(TEST_SUITES)

# ---------------------------------------------------------------- style

# Every C source and header under version control, in the style of
# .clang-format (LLVM based, 4-space indent, 100 columns, Linux braces).
FORMAT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

format:
	$(Q)clang-format --style=file -i $(FORMAT_SRCS)

check-format:
	$(Q)bad=0; for f in $(FORMAT_SRCS); do \
		clang-format --style=file "$$f" | cmp -s - "$$f" || { echo "  STYLE   $$f"; bad=1; }; \
	done; \
	if [ $$bad = 1 ]; then echo "check-format: the files above differ from .clang-format (make format)"; exit 1; fi

clean:
	rm -rf build
