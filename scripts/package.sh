#!/usr/bin/env bash
# package.sh: builds the Debian package build/sluice_<version>_<arch>.deb from the
# repository: a release build of the binary, the systemd units sluice-server.service and
# sluice-worker.service, /etc/sluice/sluice.conf, and the docs under /usr/share/doc/sluice.
#
#   bash scripts/package.sh                    builds build-pkg/ and writes build/sluice_….deb
#   bash scripts/package.sh --binary B --out D packages binary B (already built) into dir D
#
# It prints the path of the .deb on its last line.
#
# The binary is built as the tests build it (RelWithDebInfo), then stripped.
# Dependencies are computed from the binary's shared libraries (dpkg-shlibdeps), so the
# package installs on the Debian release it was built on. The maintainer scripts
# (packaging/debian/) create the system user `sluice`, /var/lib/sluice (0700) and an API key
# in /etc/sluice/api-key (0640 root:sluice); purge removes them again.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

binary= outdir="$root/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --out) outdir=$2; shift 2 ;;
    *) echo "usage: package.sh [--binary PATH] [--out DIR]" >&2; exit 2 ;;
  esac
done
if [ -z "$binary" ]; then
  bash scripts/install-deps.sh >/dev/null
  cmake -S . -B build-pkg -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TESTS=OFF >/dev/null
  cmake --build build-pkg -j "$(nproc)" --target sluice >/dev/null
  binary=build-pkg/sluice
fi

version=$("$binary" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/root"

install -D -m 0755 -s "$binary" "$pkg/usr/bin/sluice"
install -D -m 0644 packaging/systemd/sluice-server.service "$pkg/lib/systemd/system/sluice-server.service"
install -D -m 0644 packaging/systemd/sluice-worker.service "$pkg/lib/systemd/system/sluice-worker.service"
install -D -m 0644 packaging/sluice.conf "$pkg/etc/sluice/sluice.conf"
doc="$pkg/usr/share/doc/sluice"
install -D -m 0644 README.md -t "$doc"
install -D -m 0644 packaging/debian/copyright "$doc/copyright"
for f in docs/*.md; do install -D -m 0644 "$f" "$doc/docs/$(basename "$f")"; done
for f in monitoring/prometheus/*.yml monitoring/grafana/*.json; do
  install -D -m 0644 "$f" "$doc/examples/$(basename "$f")"
done

# Depends from the binary's libraries: dpkg-shlibdeps wants a debian/control beside it.
mkdir -p "$stage/debian"
printf 'Source: sluice\n\nPackage: sluice\nArchitecture: any\n' > "$stage/debian/control"
depends=$(cd "$stage" && dpkg-shlibdeps -O "$pkg/usr/bin/sluice" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size=$(du -sk "$pkg" | awk '{print $1}')

mkdir -p "$pkg/DEBIAN"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" -e "s/@SIZE@/$size/" \
  packaging/debian/control.in > "$pkg/DEBIAN/control"
echo /etc/sluice/sluice.conf > "$pkg/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "packaging/debian/$s" "$pkg/DEBIAN/$s"; done

mkdir -p "$outdir"
out="$(cd "$outdir" && pwd)/sluice_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
echo "$out"
