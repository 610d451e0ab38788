#!/bin/sh
# build-test-mmdb.sh -- build the test geo databases from tests/geo-test.csv.
#
# Usage: sh tests/build-test-mmdb.sh OUTDIR [CSV]
#
# Writes, with a fixed build date (2026-06-01 UTC) so descriptions are stable:
#   OUTDIR/country-dbip.mmdb     DB-IP layout      {country_code}
#   OUTDIR/country-geolite.mmdb  GeoLite2 layout   {country: {iso_code}}
#   OUTDIR/asn.mmdb              ip-location-db    {autonomous_system_number,
#                                                   autonomous_system_organization}
# The CSV rows are start,end,country,asn,organization; only the organization
# may contain commas (quoted), so cut splits the rest safely.
set -eu

usage() {
	echo "usage: $0 OUTDIR [CSV]" >&2
	exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	usage
fi
here=$(cd "$(dirname "$0")" && pwd)
out=$1
csv=${2:-$here/geo-test.csv}
builder=$here/../geo/build-mmdb.pl
epoch=1780272000

[ -r "$csv" ] || { echo "$0: cannot read $csv" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/geo-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

grep -v -e '^#' -e '^[[:space:]]*$' "$csv" > "$tmp/rows.csv"
cut -d, -f1-3 "$tmp/rows.csv" > "$tmp/country.csv"
cut -d, -f1,2,4- "$tmp/rows.csv" > "$tmp/asn.csv"

build() {
	perl "$builder" --quiet --epoch "$epoch" "$@"
}
build --country-dbip "$out/country-dbip.mmdb" "$tmp/country.csv"
build --country-geolite "$out/country-geolite.mmdb" "$tmp/country.csv"
build --asn "$out/asn.mmdb" "$tmp/asn.csv"
