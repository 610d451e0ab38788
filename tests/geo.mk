# tests/geo.mk -- the test geo databases, included from tests/tests.mk.
#
# Three tiny MaxMind DB files built from tests/geo-test.csv by
# tests/build-test-mmdb.sh (which runs geo/build-mmdb.pl); rebuilt when the
# data or either script changes. test_geo and the golden tests read them from
# $(B)/tests/geo.

TEST_MMDB_DIR := $(B)/tests/geo
TEST_MMDB := $(TEST_MMDB_DIR)/country-dbip.mmdb $(TEST_MMDB_DIR)/country-geolite.mmdb \
	$(TEST_MMDB_DIR)/asn.mmdb
TEST_MMDB_DEPS := tests/geo-test.csv tests/build-test-mmdb.sh geo/build-mmdb.pl

# A pattern rule with several targets makes them all with one run of its
# recipe (GNU make's grouped targets, without needing make 4.3's "&:").
$(B)/tests/%/country-dbip.mmdb $(B)/tests/%/country-geolite.mmdb $(B)/tests/%/asn.mmdb: \
		$(TEST_MMDB_DEPS)
	@echo "  MMDB    $(B)/tests/$*"
	$(Q)sh tests/build-test-mmdb.sh $(B)/tests/$*
