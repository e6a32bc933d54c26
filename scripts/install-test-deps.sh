#!/usr/bin/env bash
# Installs the Debian packages the tests run against: the real restic and rclone, and htpasswd
# (apache2-utils) to write rest-server-style credential files, OpenSSH for the forced-command test,
# and Ceph (mon, osd, radosgw) for the S3 test server (scripts/s3-test-server.sh). Idempotent; needs root (or sudo).
set -euo pipefail
PKGS=(restic rclone apache2-utils openssl openssh-server openssh-client curl ceph-mon ceph-osd radosgw ceph-common uuid-runtime faketime systemd)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
restic version
rclone version | sed -n 1p   # sed reads all of it: head could end the pipe early and SIGPIPE rclone under pipefail
ceph --version
