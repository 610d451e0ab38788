#!/bin/sh
# build-report.sh -- build the report page template: report.html with
# report.css, report.js and Chart.js inlined, for egress-sensor --report.
#
# Usage: sh sensor/report/build-report.sh OUT.html [CACHE_DIR]
#        (make report runs it with OUT=build/report/report-template.html)
#
# Chart.js comes from the npm package chart.js at the version pinned below,
# fetched with "npm pack" (npm checks the tarball against the registry's
# integrity hash) and checked here against the integrity pinned below, so a
# changed package is refused rather than shipped. The tarball is kept in
# CACHE_DIR (default: OUT's folder): a rebuild after editing the page needs
# no network. Its licence text (MIT) goes into the page, as a comment above
# the library.
#
# The template keeps the placeholder @@REPORT_DATA@@ inside
# <script type="application/json" id="report-data">; the sensor replaces it
# with the run's data. The output is written to a temporary file and moved
# into place. Needs npm (only when the tarball is not cached), tar, awk and
# openssl; exits non-zero with a message naming the step that failed.
set -eu

prog=build-report.sh
CHARTJS_VERSION=4.6.2
CHARTJS_INTEGRITY=sha512-xachB+pPHjp0syJi7llUBA1w3kMYl6NF3o7eVrvjnWCT+IB2zMaF2pX5UYDiwbbfsioFEIRnAjreNOMsGj5TIA==

die() {
	echo "$prog: $*" >&2
	exit 1
}

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 OUT.html [CACHE_DIR]" >&2; exit 2; }
out=$1
outdir=$(dirname "$out")
cache=${2:-$outdir}
src=$(cd "$(dirname "$0")" && pwd)

for f in report.html report.css report.js; do
	[ -r "$src/$f" ] || die "cannot read $src/$f"
done
command -v openssl >/dev/null 2>&1 || die "openssl not found (Debian package openssl)"
command -v tar >/dev/null 2>&1 || die "tar not found"

# The npm integrity string of file $1: sha512-<base64 of its SHA-512>.
integrity() {
	printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | openssl base64 -A)"
}

mkdir -p "$outdir" "$cache" || die "cannot create $outdir or $cache"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/build-report.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

tgz=$cache/chart.js-$CHARTJS_VERSION.tgz
if [ ! -f "$tgz" ] || [ "$(integrity "$tgz")" != "$CHARTJS_INTEGRITY" ]; then
	command -v npm >/dev/null 2>&1 || die "npm not found (make deps-report installs it)"
	echo "$prog: fetching chart.js@$CHARTJS_VERSION with npm pack"
	name=$(cd "$tmp" && npm pack --loglevel=error "chart.js@$CHARTJS_VERSION") ||
		die "npm pack chart.js@$CHARTJS_VERSION failed"
	[ -f "$tmp/$name" ] || die "npm pack chart.js@$CHARTJS_VERSION wrote no tarball"
	got=$(integrity "$tmp/$name")
	[ "$got" = "$CHARTJS_INTEGRITY" ] ||
		die "chart.js@$CHARTJS_VERSION: integrity $got is not the pinned $CHARTJS_INTEGRITY"
	mv -f "$tmp/$name" "$tgz" || die "cannot keep the tarball in $cache"
fi

tar -xzf "$tgz" -C "$tmp" package/dist/chart.umd.min.js package/LICENSE.md package/package.json ||
	die "$tgz: no package/dist/chart.umd.min.js or LICENSE.md (package layout changed?)"
grep -q "\"version\": \"$CHARTJS_VERSION\"" "$tmp/package/package.json" ||
	die "$tgz: package.json does not say version $CHARTJS_VERSION"

# The library, without its source-map comment (nothing to fetch), and its
# licence as a comment above it.
lib=$tmp/chart.js
{
	printf '/*!\n * Chart.js %s, from the npm package chart.js, inlined into this page.\n' \
		"$CHARTJS_VERSION"
	printf ' * Its licence (package/LICENSE.md) follows.\n *\n'
	sed 's/^/ * /; s/ *$//' "$tmp/package/LICENSE.md"
	printf ' */\n'
	grep -v '^//# sourceMappingURL=' "$tmp/package/dist/chart.umd.min.js"
	printf '\n'
} > "$lib" || die "cannot assemble Chart.js"
grep -q '\*/' "$tmp/package/LICENSE.md" && die "LICENSE.md would end the comment"

# Nothing inlined may end its element early, or put the HTML parser into
# its escaped script states.
for f in "$src/report.css" "$src/report.js" "$lib"; do
	if grep -qi -e '</\(script\|style\)' -e '<!--' "$f"; then
		die "$f contains a closing script or style tag or '<!--'; it cannot be inlined"
	fi
done

# Replace each marker line with the file between tags.
awk -v css="$src/report.css" -v js="$src/report.js" -v lib="$lib" '
function emit(file, before, after,   line) {
	print before
	while ((getline line < file) > 0)
		print line
	close(file)
	print after
}
/^<!-- @inline-style report\.css -->$/ { emit(css, "<style>", "</style>"); next }
/^<!-- @inline-script chart\.js -->$/ { emit(lib, "<script>", "</script>"); next }
/^<!-- @inline-script report\.js -->$/ { emit(js, "<script>", "</script>"); next }
{ print }
' "$src/report.html" > "$tmp/report-template.html" || die "cannot assemble the template"

n=$(grep -c '@@REPORT_DATA@@' "$tmp/report-template.html" || true)
[ "$n" = 1 ] || die "the template holds the data placeholder $n times, not once"
if grep -q '@inline-' "$tmp/report-template.html"; then
	die "a marker was not replaced (report.html changed?)"
fi
# into place in one step: a temporary file beside it, then a rename
part=$out.part.$$
cp "$tmp/report-template.html" "$part" && mv -f "$part" "$out" || {
	rm -f "$part"
	die "cannot write $out"
}
echo "$prog: wrote $out ($(wc -c < "$out") bytes; Chart.js $CHARTJS_VERSION, MIT)"
