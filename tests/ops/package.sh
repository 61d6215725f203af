#!/usr/bin/env bash
# package.sh: the Debian package, as an operator gets it. scripts/package.sh packages this
# build's binary; the .deb is installed into this machine with dpkg, its units pass
# `systemd-analyze verify`, the installed binary (as the `sluice` user the package
# creates) loads a PostgreSQL table into another database and the copy is checked row by
# row, the installed server answers with the key the package generated, and a purge
# removes every file, the state dirs and the user again.
#
# It refuses to touch a machine where a sluice package is already installed.
source "$(dirname "$0")/../lib/common.sh"
root=${SLUICE_SOURCE_DIR:?}
[ "$(id -u)" = 0 ] || die "the package test installs a .deb and must run as root"
if dpkg-query -W -f='${Status}' sluice 2>/dev/null | grep -q 'ok installed'; then
  die "a sluice package is installed on this machine already; remove it (dpkg --purge sluice) to run this test"
fi
tmpdir
T=$TMPD
purge() { dpkg --purge sluice >/dev/null 2>&1 || true; }
on_exit purge

note "building the package from $SLUICE_BIN"
deb=$(bash "$root/scripts/package.sh" --binary "$SLUICE_BIN" --out "$T" | tail -n 1)
[ -f "$deb" ] || die "scripts/package.sh made no .deb"
version=$("$SLUICE_BIN" --version | awk '{print $2}')
assert_eq "$(basename "$deb")" "sluice_${version}_$(dpkg --print-architecture).deb" "package file name"
dpkg-deb -c "$deb" | awk '{print $6}' >"$T/files"
for f in ./usr/bin/sluice ./lib/systemd/system/sluice-server.service ./lib/systemd/system/sluice-worker.service \
         ./etc/sluice/sluice.conf ./usr/share/doc/sluice/README.md ./usr/share/doc/sluice/copyright \
         ./usr/share/doc/sluice/docs/server.md; do
  grep -qx -- "$f" "$T/files" || die "the package lacks $f"
done
assert_eq "$(dpkg-deb -f "$deb" Package Version | tr '\n' ' ')" "Package: sluice Version: $version " "control fields"

note "installing"
dpkg -i "$deb" >"$T/install.log" 2>&1 || { cat "$T/install.log" >&2; die "dpkg -i failed"; }
assert_eq "$(/usr/bin/sluice --version)" "sluice $version" "installed binary's version"
getent passwd sluice >/dev/null || die "the package made no sluice user"
assert_eq "$(stat -c '%a %U' /var/lib/sluice)" "700 sluice" "state dir mode and owner"
assert_eq "$(stat -c '%a %U %G' /etc/sluice/api-key)" "640 root sluice" "api key file mode and owner"
grep -qE '^sk_[0-9a-f]{48}$' /etc/sluice/api-key || die "the generated API key has an unexpected form"

note "systemd-analyze verify"
for u in sluice-server sluice-worker; do
  systemd-analyze verify "/lib/systemd/system/$u.service" >"$T/verify.$u" 2>&1 ||
    { cat "$T/verify.$u" >&2; die "systemd-analyze verify $u.service failed"; }
  # warnings are printed even when it exits 0: none may name our unit
  ! grep -q "$u.service" "$T/verify.$u" || { cat "$T/verify.$u" >&2; die "$u.service has warnings"; }
  for k in User=sluice ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes; do
    grep -qx "$k" "/lib/systemd/system/$u.service" || die "$u.service lacks $k"
  done
done
grep -qx 'ReadWritePaths=/var/lib/sluice' /lib/systemd/system/sluice-server.service ||
  die "sluice-server.service does not limit writes to /var/lib/sluice"

note "a load with the installed binary, as user sluice"
pg_newdb pkg_src
pg_newdb pkg_dst
pg_sql pkg_src "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), seen timestamptz);
  INSERT INTO items SELECT g, 'item ' || g, g * 1.25, '2026-01-01'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, 20000) g;"
work=$(mktemp -d /var/lib/sluice/test.XXXXXX)
write_spec "$work/spec.json" pkg-load "$(pg_url pkg_src)" "$(pg_url pkg_dst)"
chown -R sluice:sluice "$work"
runuser -u sluice -- env -C "$work" /usr/bin/sluice run spec.json --data-dir "$work/data" >"$T/run.out" 2>&1 ||
  { cat "$T/run.out" >&2; die "the installed sluice failed the load"; }
assert_eq "$(pg_table_digest pkg_dst items id)" "$(pg_table_digest pkg_src items id)" "items copied by the installed binary"

note "the installed server answers with the generated key"
runuser -u sluice -- /usr/bin/sluice server --data-dir "$work/srv" --listen 127.0.0.1:0 \
  --api-key-file /etc/sluice/api-key >"$T/server.out" 2>&1 &
srv=$!
on_exit "kill $srv 2>/dev/null || true"
wait_for "grep -q '^listening on' '$T/server.out'" 60 || { cat "$T/server.out" >&2; die "the server did not start"; }
url=$(sed -n 's/^listening on //p' "$T/server.out" | head -n 1)
code=$(curl -s -o "$T/streams.json" -w '%{http_code}' -H "Authorization: Bearer $(cat /etc/sluice/api-key)" \
  "$url/api/v1/streams")
assert_eq "$code" 200 "GET /api/v1/streams with the package's key"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer sk_wrong" "$url/api/v1/streams")
assert_eq "$code" 401 "GET /api/v1/streams with a wrong key"
kill "$srv"
wait "$srv" 2>/dev/null || true

note "purge"
dpkg --purge sluice >"$T/purge.log" 2>&1 || { cat "$T/purge.log" >&2; die "dpkg --purge failed"; }
for p in /usr/bin/sluice /lib/systemd/system/sluice-server.service /lib/systemd/system/sluice-worker.service \
         /etc/sluice /var/lib/sluice /var/lib/sluice-worker /usr/share/doc/sluice; do
  [ ! -e "$p" ] || die "$p is left after purge"
done
! getent passwd sluice >/dev/null || die "the sluice user is left after purge"
pg_sql postgres "DROP DATABASE pkg_src; DROP DATABASE pkg_dst" >/dev/null
note "ok"
