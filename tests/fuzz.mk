# tests/fuzz.mk -- libFuzzer targets for the parsers, included from tests/tests.mk.
#
#   make fuzz          build every target into $(B)/fuzz/ (clang, libFuzzer, ASan, UBSan)
#   make fuzz-seeds    seed corpora in $(B)/fuzz/seeds/<target>/ (tests/fuzz/make_seeds.py)
#   make fuzz-smoke    each target for FUZZ_SECONDS on its seeds and kept inputs, then
#                      every file of tests/fuzz/regressions/<target>/ replayed once;
#                      fails on any crash, leak, timeout or sanitizer report
#   make fuzz-smoke-T  the same for target T alone (make -j2 fuzz-smoke runs two at once)
#
# The library is compiled again with clang and the fuzzing flags, by a
# recursive make into $(FUZZ_B) (B=$(FUZZ_B)): objects of the gcc build are
# never linked into a fuzzer. Library objects get coverage instrumentation
# (-fsanitize=fuzzer-no-link); the targets link libFuzzer's main
# (-fsanitize=fuzzer). UBSan findings abort (-fno-sanitize-recover), so the
# fuzzer keeps them like any crash. tests/fuzz/README.md: how to run longer.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := decode dissectors dns config signatures pcap ja4
FUZZ_B := $(B)/fuzz
FUZZ_LIB := $(FUZZ_B)/libsensor.a
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)
FUZZ_SEEDS := $(FUZZ_B)/seeds
FUZZ_REG := tests/fuzz/regressions
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_OPT := -O1 -g $(FUZZ_SAN)
FUZZ_RUN_FLAGS := -timeout=10 -rss_limit_mb=2048

.PHONY: fuzz fuzz-seeds fuzz-smoke $(FUZZ_TARGETS:%=fuzz-smoke-%) fuzz-force

fuzz: $(FUZZ_BINS)

# The sub-make decides what is out of date; the archive's time stamp then
# tells whether the targets must be linked again.
$(FUZZ_LIB): fuzz-force
	$(Q)$(MAKE) --no-print-directory $(if $(Q),-s) B=$(FUZZ_B) CC=$(FUZZ_CC) \
		OPT="$(FUZZ_OPT) -fsanitize=fuzzer-no-link" $(FUZZ_LIB)

fuzz-force:

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) -std=c11 -D_GNU_SOURCE $(FUZZ_OPT) -fsanitize=fuzzer $(WARN) -MMD -MP \
		-Isensor -Igeo -Idissectors -Itests/fuzz $(PKG_CFLAGS) $(CFLAGS) \
		-DFUZZ_SIGNATURES_DIR=\"$(CURDIR)/config/signatures\" \
		-o $@ $< $(FUZZ_LIB) $(LIBS)

-include $(FUZZ_BINS:=.d)

# Seeds are cheap to extract (a few seconds), so they are always rebuilt:
# a capture added to pcaps/ or the corpus is picked up without a stamp.
fuzz-seeds:
	$(Q)python3 tests/fuzz/make_seeds.py --out $(FUZZ_SEEDS) --corpus $(CORPUS)

fuzz-smoke: $(FUZZ_TARGETS:%=fuzz-smoke-%)

# One target: a fresh working corpus (new inputs land there, not among the
# seeds), then the regressions replayed one by one. Logs stay in
# $(FUZZ_B)/logs/, crashing inputs in $(FUZZ_B)/artifacts/<target>/.
$(FUZZ_TARGETS:%=fuzz-smoke-%): fuzz-smoke-%: $(FUZZ_B)/fuzz_% | fuzz-seeds
	$(Q)t=$*; bin=$(FUZZ_B)/fuzz_$$t; work=$(FUZZ_B)/smoke/$$t; art=$(FUZZ_B)/artifacts/$$t; \
	log=$(FUZZ_B)/logs/$$t-smoke.log; reg=$(FUZZ_REG)/$$t; \
	rm -rf $$work && mkdir -p $$work $$art $(FUZZ_B)/logs && \
	dirs="$$work $(FUZZ_SEEDS)/$$t"; [ -d $$reg ] && dirs="$$dirs $$reg"; \
	$$bin $(FUZZ_RUN_FLAGS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$$art/ $$dirs >$$log 2>&1; rc=$$?; \
	runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log); \
	if [ $$rc -ne 0 ]; then \
		echo "  FUZZ    fuzz_$$t: FAILED after $${runs:-?} runs (exit $$rc), log $$log"; \
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*invariant failed|artifact_prefix|Test unit written)' $$log | head -20; \
		exit 1; \
	fi; \
	echo "  FUZZ    fuzz_$$t: $$runs runs in $(FUZZ_SECONDS) s, no crash"; \
	files=$$([ -d $$reg ] && find $$reg -type f ! -name '*.md' | sort); \
	if [ -n "$$files" ]; then \
		if ! $$bin $(FUZZ_RUN_FLAGS) $$files >$(FUZZ_B)/logs/$$t-replay.log 2>&1; then \
			echo "  FUZZ    fuzz_$$t: a regression input crashes again, log $(FUZZ_B)/logs/$$t-replay.log"; \
			grep -E '^(Running:|==[0-9]+==ERROR|SUMMARY|.*runtime error|.*invariant failed)' \
				$(FUZZ_B)/logs/$$t-replay.log | tail -8; \
			exit 1; \
		fi; \
		echo "  FUZZ    fuzz_$$t: $$(echo $$files | wc -w) regression inputs replayed, no crash"; \
	fi
