#!/usr/bin/env bash
# Throw-away S3 server for rwm's integration tests and CI: a single-node Ceph cluster (one
# ceph-mon, one ceph-osd, one radosgw; no ceph-mgr, no systemd) serving S3 on 127.0.0.1.
# Everything (ceph.conf, keyring, mon store, OSD data, logs, pid files, admin sockets) lives
# under DIR, which `start` wipes and `stop` removes. Only loopback addresses are used.
#
# Usage:
#   scripts/s3-test-server.sh install          apt-get install the Ceph packages (root or sudo)
#   scripts/s3-test-server.sh start [DIR]      start; prints `export ...` lines (also in DIR/env)
#   scripts/s3-test-server.sh stop [DIR]       stop the daemons and remove DIR
#   scripts/s3-test-server.sh status [DIR]     report daemons and S3 endpoint; exit 1 if not up
#   scripts/s3-test-server.sh env [DIR]        print DIR/env again
#   scripts/s3-test-server.sh gc [DIR]         run RGW garbage collection now (frees deleted data)
#   scripts/s3-test-server.sh rgw-stop [DIR]   stop only radosgw (S3 connections are refused; mon,
#                                              osd and the data stay); for outage tests
#   scripts/s3-test-server.sh rgw-start [DIR]  start radosgw again (same conf, port, users, data)
#                                              and wait until it answers HTTP
#
#   eval "$(scripts/s3-test-server.sh start)"   # then AWS_ENDPOINT_URL, RWM_S3_* are set
#
# DIR defaults to ${RWM_S3_DIR:-/tmp/rwm-s3}. Environment knobs (defaults in brackets):
#   RWM_S3_PORT [7480]          RGW (beast) port on 127.0.0.1
#   RWM_S3_MON_PORT [16789]     ceph-mon msgr2 port on 127.0.0.1 (OSD picks free ports 6800-7300)
#   RWM_S3_STORE [memstore]     memstore (data in RAM, ~2.2x the bytes stored) or bluestore
#                               (sparse file DIR/osd-0.block, for larger data)
#   RWM_S3_SIZE [4G memstore, 64G bluestore]  OSD capacity (bytes, or K/M/G/T suffix)
#   RWM_S3_TIMEOUT [60]         seconds allowed for each daemon to come up (else start fails,
#                               printing the tail of that daemon's logs, and stops the rest)
#   RWM_S3_LC_DEBUG_INTERVAL [] if set (e.g. 10), a lifecycle "day" lasts that many seconds
#   RWM_S3_STOP_GRACE [10]      seconds `stop` waits after SIGTERM before SIGKILL; 0 = at once
#
# S3 users created with fixed keys (region: anything; use path-style addressing):
#   admin  RWMADMINACCESSKEY000 / rwm-admin-secret-key-000000000000000000
#   backup RWMBACKUPACCESSKEY00 / rwm-backup-secret-key-00000000000000000
#   other  RWMOTHERACCESSKEY000 / rwm-other-secret-key-000000000000000000  (a third account, for
#          tests that a policed bucket grants nobody else anything)
# Deleted data is only freed by RGW GC: run `gc`, or
#   radosgw-admin -c "$RWM_S3_CEPH_CONF" gc process --include-all
# Do not call ceph commands served by ceph-mgr (`ceph -s` pool stats, `ceph osd df`): there is
# no mgr and they hang.
set -euo pipefail

ADMIN_ACCESS_KEY=RWMADMINACCESSKEY000
ADMIN_SECRET_KEY=rwm-admin-secret-key-000000000000000000
BACKUP_ACCESS_KEY=RWMBACKUPACCESSKEY00
BACKUP_SECRET_KEY=rwm-backup-secret-key-00000000000000000
OTHER_ACCESS_KEY=RWMOTHERACCESSKEY000
OTHER_SECRET_KEY=rwm-other-secret-key-000000000000000000

PORT=${RWM_S3_PORT:-7480}
MON_PORT=${RWM_S3_MON_PORT:-16789}
STORE=${RWM_S3_STORE:-memstore}
TIMEOUT=${RWM_S3_TIMEOUT:-60}
RGW_NAME=client.rgw.rwm
MARKER=.rwm-s3-test-server
# Daemons in the order they are started; stopped in reverse.
DAEMONS=(mon.a osd.0 rgw)

log() { printf 's3-test-server: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------
install_pkgs() {
  local pkgs=(ceph-mon ceph-osd radosgw ceph-common uuid-runtime) missing=() p sudo=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "packages already installed: ${pkgs[*]}"
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Use-Pty=0)
  # apt output goes to a temporary log, shown only if something fails.
  local out
  out=$(mktemp)
  # Only refresh the package lists when there are none, or when installing from them fails.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    "${apt[@]}" update >"$out" 2>&1 || { cat "$out" >&2; rm -f "$out"; return 1; }
  fi
  log "installing ${missing[*]}"
  if ! "${apt[@]}" install --no-install-recommends "${missing[@]}" >"$out" 2>&1; then
    log "install failed; refreshing package lists and retrying"
    if ! { "${apt[@]}" update && "${apt[@]}" install --no-install-recommends "${missing[@]}"; } >"$out" 2>&1; then
      cat "$out" >&2
      rm -f "$out"
      return 1
    fi
  fi
  rm -f "$out"
  ceph --version >&2
}

# ---------------------------------------------------------------------------------------------
set_dir() {
  DIR=${1:-${RWM_S3_DIR:-/tmp/rwm-s3}}
  case $DIR in
    /*) ;;
    *) DIR=$PWD/$DIR ;;
  esac
  DIR=${DIR%/}
  [ -n "$DIR" ] || die "refusing to use / as DIR"
  CONF=$DIR/ceph.conf
}

# ceph CLI wrappers: always our conf, always bounded in time.
ceph_() { timeout 20 ceph -c "$CONF" --connect-timeout 15 "$@"; }
rgwadmin() { timeout 30 radosgw-admin -c "$CONF" "$@"; }

pidfile() { echo "$DIR/run/$1.pid"; }

# Prints the pid of daemon $1 if its pid file names a live process started with our conf.
daemon_pid() {
  local f pid
  f=$(pidfile "$1")
  [ -f "$f" ] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CONF" || return 1
  echo "$pid"
}

# Log files worth showing when daemon $1 failed.
daemon_logs() {
  case $1 in
    mon.a) echo "$DIR/log/mon.a.out $DIR/log/ceph-mon.a.log" ;;
    osd.0) echo "$DIR/log/osd.0.out $DIR/log/ceph-osd.0.log" ;;
    rgw) echo "$DIR/log/rgw.out $DIR/log/ceph-$RGW_NAME.log" ;;
  esac
}

show_logs() {
  local f
  for f in $(daemon_logs "$1"); do
    [ -s "$f" ] || continue
    printf '===== tail of %s =====\n' "$f" >&2
    # After a crash, Ceph appends a long dump of recent events; the cause is above it.
    sed '/--- begin dump of recent events ---/,$d' "$f" | tail -n 30 >&2
  done
}

# True while process $1 exists and is not a zombie (a zombie nobody reaps has exited anyway).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# wait_gone PID TENTHS: wait up to TENTHS/10 seconds for PID to exit.
wait_gone() {
  local n
  for ((n = 0; n < $2; n++)); do
    alive "$1" || return 0
    sleep 0.1
  done
  ! alive "$1"
}

# stop_daemon NAME: stop daemon NAME if it runs (SIGTERM, SIGKILL after the grace period) and
# remove its pid file.
stop_daemon() {
  local name=$1 pid grace=${RWM_S3_STOP_GRACE:-10}
  if pid=$(daemon_pid "$name"); then
    if [ "$name" = osd.0 ] && [ "$(conf_get osd_objectstore)" = memstore ]; then
      # A memstore OSD writes its whole RAM contents into DIR on a clean shutdown; the data
      # is thrown away anyway, so don't wait for that.
      kill -KILL "$pid" 2>/dev/null || true
    elif [ "$name" = rgw ] && [ -n "$(conf_get rgw_lc_debug_interval)" ]; then
      # With rgw_lc_debug_interval set, radosgw 16.2 hangs on SIGTERM once lifecycle has run.
      kill -KILL "$pid" 2>/dev/null || true
    else
      kill -TERM "$pid" 2>/dev/null || true
    fi
    if ! wait_gone "$pid" $((grace * 10)); then
      [ "$grace" -eq 0 ] || log "$name (pid $pid) still running after ${grace}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 50 || log "$name (pid $pid) did not die"
    fi
  fi
  rm -f "$(pidfile "$name")"
}

stop_daemons() {
  local i
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
    stop_daemon "${DAEMONS[i]}"
  done
}

conf_get() {
  [ -f "$CONF" ] || return 0
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$CONF" | head -n 1
}

# Sets PORT to the RGW port written in DIR's ceph.conf (RWM_S3_PORT, or 7480, if none is).
port_from_conf() {
  PORT=$(conf_get rgw_frontends | sed -n 's/.*endpoint=127\.0\.0\.1:\([0-9]*\).*/\1/p')
  PORT=${PORT:-${RWM_S3_PORT:-7480}}
}

# Remove DIR, but only if it is ours (has the marker) or empty.
wipe_dir() {
  [ -e "$DIR" ] || return 0
  [ -d "$DIR" ] || die "$DIR exists and is not a directory"
  if [ ! -e "$DIR/$MARKER" ] && [ -n "$(ls -A "$DIR")" ]; then
    die "$DIR is not empty and was not created by this script; refusing to delete it"
  fi
  rm -rf "$DIR"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Size in bytes from "4294967296", "4G", "4GiB" or "4GB" (all suffixes are powers of 1024).
to_bytes() {
  local v
  v=$(tr '[:lower:]' '[:upper:]' <<<"$1")
  v=${v%B}
  v=${v%I}
  [[ $v =~ ^[0-9]+[KMGT]?$ ]] || die "bad size '$1'"
  numfmt --from=iec "$v"
}

# Start daemon $1 in the background (own session, stdio to a file) and record its pid.
launch() {
  local name=$1
  shift
  setsid "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 &
  echo $! >"$(pidfile "$name")"
  disown $!
}

# While `start` runs, PHASE names the daemon being brought up; if start exits early (a failed
# command under set -e, die, timeout, Ctrl-C) the EXIT trap shows its logs and stops the daemons.
PHASE=""
on_start_exit() {
  local rc=$?
  trap - EXIT
  set +e
  [ "$rc" -ne 0 ] || rc=1
  [ -n "$PHASE" ] && show_logs "$PHASE"
  log "start failed; stopping whatever was started (logs kept in $DIR/log)"
  stop_daemons
  exit "$rc"
}

DEADLINE=0
# wait_for NAME DESCRIPTION CMD...: retry CMD until it succeeds, the daemon dies, or timeout.
wait_for() {
  local name=$1 what=$2
  shift 2
  DEADLINE=$((SECONDS + TIMEOUT))
  while ! "$@" >/dev/null 2>&1; do
    if ! daemon_pid "$name" >/dev/null; then
      log "$name exited while waiting for $what"
      return 1
    fi
    if ((SECONDS >= DEADLINE)); then
      log "timed out after ${TIMEOUT}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

osd_is_up() { ceph_ osd stat -f json | grep -q '"num_up_osds":1'; }
rgw_answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$PORT/")" = 200 ]; }
# curl's SigV4 (7.88) leaves out x-amz-content-sha256, which RGW requires: send it ourselves.
user_can_list() {
  curl -sf -m 5 -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' --aws-sigv4 'aws:amz:us-east-1:s3' --user "$1:$2" "http://127.0.0.1:$PORT/" |
    grep -q '<ListAllMyBucketsResult'
}

write_conf() {
  local fsid=$1 size=$2
  cat >"$CONF" <<EOF
# Generated by scripts/s3-test-server.sh; throw-away single-node test cluster.
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$MON_PORT
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $DIR/keyring
run_dir = $DIR/run
crash_dir = $DIR/crash
log_file = $DIR/log/\$cluster-\$name.log
log_to_stderr = false
err_to_stderr = true
mon_cluster_log_file = $DIR/log/ceph.log
mon_data = $DIR/mon/\$cluster-\$id
osd_data = $DIR/osd/\$cluster-\$id
rgw_data = $DIR/rgw/\$cluster-\$id
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 2
mon_data_avail_crit = 1
paxos_propose_interval = 0.01
paxos_min_wait = 0.01

[mon]
mon_initial_members = a

[osd]
osd_objectstore = $STORE
osd_memory_target = 1073741824
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1
EOF
  if [ "$STORE" = memstore ]; then
    cat >>"$CONF" <<EOF
memstore_device_bytes = $size
EOF
  else
    cat >>"$CONF" <<EOF
bluestore_block_path = $DIR/osd-\$id.block
bluestore_block_create = true
bluestore_block_size = $size
bluestore_block_db_create = false
bluestore_block_wal_create = false
bluestore_fsck_on_mount = false
bluestore_cache_autotune = true
EOF
  fi
  cat >>"$CONF" <<EOF

[$RGW_NAME]
rgw_frontends = beast endpoint=127.0.0.1:$PORT
rgw_thread_pool_size = 64
rgw_enable_usage_log = false
rgw_dynamic_resharding = false
rgw_gc_obj_min_wait = 5
rgw_gc_processor_period = 30
# One lifecycle worker: several contend for the same shard locks and then sleep 5 s
# uninterruptibly, which makes radosgw take 5-10 s to exit.
rgw_lc_max_worker = 1
rgw_crypt_require_ssl = false
debug_rgw = 1
EOF
  if [ -n "${RWM_S3_LC_DEBUG_INTERVAL:-}" ]; then
    echo "rgw_lc_debug_interval = $RWM_S3_LC_DEBUG_INTERVAL" >>"$CONF"
  fi
}

env_lines() {
  cat <<EOF
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT
export RWM_S3_ENDPOINT=http://127.0.0.1:$PORT
export RWM_S3_REGION=us-east-1
export RWM_S3_ADMIN_ACCESS_KEY=$ADMIN_ACCESS_KEY
export RWM_S3_ADMIN_SECRET_KEY=$ADMIN_SECRET_KEY
export RWM_S3_BACKUP_ACCESS_KEY=$BACKUP_ACCESS_KEY
export RWM_S3_BACKUP_SECRET_KEY=$BACKUP_SECRET_KEY
export RWM_S3_OTHER_ACCESS_KEY=$OTHER_ACCESS_KEY
export RWM_S3_OTHER_SECRET_KEY=$OTHER_SECRET_KEY
export RWM_S3_DIR=$DIR
export RWM_S3_CEPH_CONF=$CONF
EOF
}

start() {
  local cmd
  for cmd in ceph ceph-mon ceph-osd radosgw radosgw-admin ceph-authtool monmaptool uuidgen curl; do
    command -v "$cmd" >/dev/null || die "$cmd not found; run: $0 install"
  done
  case $STORE in
    memstore | bluestore) ;;
    *) die "RWM_S3_STORE must be memstore or bluestore, not '$STORE'" ;;
  esac
  local size
  if [ "$STORE" = memstore ]; then size=$(to_bytes "${RWM_S3_SIZE:-4G}"); else size=$(to_bytes "${RWM_S3_SIZE:-64G}"); fi

  # Stop a previous instance in this DIR, then start from scratch.
  if [ -d "$DIR/run" ]; then stop_daemons; fi
  wipe_dir
  port_in_use "$PORT" && die "port 127.0.0.1:$PORT (RWM_S3_PORT) is already in use"
  port_in_use "$MON_PORT" && die "port 127.0.0.1:$MON_PORT (RWM_S3_MON_PORT) is already in use"

  mkdir -p "$DIR"/{run,log,crash,mon/ceph-a,osd/ceph-0,"rgw/ceph-${RGW_NAME#client.}"}
  : >"$DIR/$MARKER"
  trap on_start_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local t0=$EPOCHREALTIME fsid osd_uuid
  fsid=$(uuidgen)
  osd_uuid=$(uuidgen)
  write_conf "$fsid" "$size"

  # One keyring holds every identity; ceph-mon --mkfs imports all of it into the auth database.
  local kr=$DIR/keyring
  ceph-authtool "$kr" --create-keyring --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$kr" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$kr" --gen-key -n osd.0 \
    --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
  ceph-authtool "$kr" --gen-key -n "$RGW_NAME" \
    --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
  chmod 600 "$kr"

  log "starting ceph-mon on 127.0.0.1:$MON_PORT ($DIR)"
  monmaptool -c "$CONF" --create --clobber --fsid "$fsid" \
    --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  PHASE=mon.a
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" --keyring "$kr" >>"$DIR/log/mon.a.out" 2>&1
  launch mon.a ceph-mon -c "$CONF" -i a -f
  wait_for mon.a "ceph-mon to answer" ceph_ mon dump

  log "starting ceph-osd ($STORE, $size bytes)"
  ceph_ osd new "$osd_uuid" 0 >/dev/null
  PHASE=osd.0
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$DIR/log/osd.0.out" 2>&1
  launch osd.0 ceph-osd -c "$CONF" -i 0 -f
  wait_for osd.0 "osd.0 to be up" osd_is_up

  log "starting radosgw on 127.0.0.1:$PORT"
  PHASE=rgw
  launch rgw radosgw -c "$CONF" -n "$RGW_NAME" -f
  wait_for rgw "radosgw to answer HTTP on 127.0.0.1:$PORT" rgw_answers

  rgwadmin user create --uid admin --display-name 'rwm test admin' \
    --access-key "$ADMIN_ACCESS_KEY" --secret-key "$ADMIN_SECRET_KEY" \
    --caps 'users=*;buckets=*;metadata=*;usage=*;zone=*' >/dev/null
  rgwadmin user create --uid backup --display-name 'rwm test backup' \
    --access-key "$BACKUP_ACCESS_KEY" --secret-key "$BACKUP_SECRET_KEY" >/dev/null
  rgwadmin user create --uid other --display-name 'rwm test other account' \
    --access-key "$OTHER_ACCESS_KEY" --secret-key "$OTHER_SECRET_KEY" >/dev/null
  wait_for rgw "the S3 users to be usable" user_can_list "$ADMIN_ACCESS_KEY" "$ADMIN_SECRET_KEY"
  wait_for rgw "the S3 users to be usable" user_can_list "$BACKUP_ACCESS_KEY" "$BACKUP_SECRET_KEY"
  trap - EXIT INT TERM

  env_lines >"$DIR/env"
  log "ready in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s: http://127.0.0.1:$PORT (env in $DIR/env)"
  env_lines
}

stop() {
  if [ ! -e "$DIR" ]; then
    log "nothing at $DIR"
    return 0
  fi
  stop_daemons
  wipe_dir
  log "stopped; removed $DIR"
}

status() {
  local name pid ok=0
  if [ ! -d "$DIR" ]; then
    echo "not running (no $DIR)"
    return 1
  fi
  for name in "${DAEMONS[@]}"; do
    if pid=$(daemon_pid "$name"); then
      echo "$name: running (pid $pid)"
    else
      echo "$name: not running"
      ok=1
    fi
  done
  port_from_conf
  if rgw_answers; then
    echo "s3: http://127.0.0.1:$PORT answers"
  else
    echo "s3: http://127.0.0.1:$PORT does not answer"
    ok=1
  fi
  if daemon_pid mon.a >/dev/null; then
    echo "osd: $(ceph_ osd stat 2>&1 || true)"
  fi
  return "$ok"
}

# The cluster in DIR must have been started by `start` (for rgw-stop and rgw-start).
need_cluster() {
  if [ ! -f "$DIR/$MARKER" ] || [ ! -f "$CONF" ]; then
    die "no cluster at $DIR (not started by this script?)"
  fi
}

rgw_stop() {
  need_cluster
  local pid
  if ! pid=$(daemon_pid rgw); then
    rm -f "$(pidfile rgw)"
    log "radosgw is not running ($DIR)"
    return 0
  fi
  stop_daemon rgw
  port_from_conf
  log "stopped radosgw (pid $pid); 127.0.0.1:$PORT refuses connections, mon and osd still run"
}

# If rgw-start fails (timeout, radosgw exits, Ctrl-C), show radosgw's logs and stop it again;
# mon and osd are left alone.
on_rgw_start_exit() {
  local rc=$?
  trap - EXIT
  set +e
  [ "$rc" -ne 0 ] || rc=1
  show_logs rgw
  log "rgw-start failed; stopping radosgw (logs kept in $DIR/log)"
  stop_daemon rgw
  exit "$rc"
}

rgw_start() {
  need_cluster
  port_from_conf
  if daemon_pid rgw >/dev/null; then
    rgw_answers || die "radosgw is running but 127.0.0.1:$PORT does not answer"
    log "radosgw is already running: http://127.0.0.1:$PORT"
    return 0
  fi
  local name
  for name in mon.a osd.0; do
    daemon_pid "$name" >/dev/null || die "$name is not running; start the whole cluster with: $0 start $DIR"
  done
  port_in_use "$PORT" && die "port 127.0.0.1:$PORT is already in use"
  trap on_rgw_start_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local t0=$EPOCHREALTIME
  log "starting radosgw on 127.0.0.1:$PORT"
  launch rgw radosgw -c "$CONF" -n "$RGW_NAME" -f
  wait_for rgw "radosgw to answer HTTP on 127.0.0.1:$PORT" rgw_answers
  trap - EXIT INT TERM
  log "radosgw ready in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s: http://127.0.0.1:$PORT"
}

main() {
  local cmd=${1:-}
  [ $# -gt 0 ] && shift
  case $cmd in
    install) install_pkgs ;;
    start) set_dir "${1:-}"; start ;;
    stop) set_dir "${1:-}"; stop ;;
    status) set_dir "${1:-}"; status ;;
    env)
      set_dir "${1:-}"
      [ -f "$DIR/env" ] || die "no $DIR/env; not started?"
      cat "$DIR/env"
      ;;
    gc)
      set_dir "${1:-}"
      rgwadmin gc process --include-all
      ;;
    rgw-stop) set_dir "${1:-}"; rgw_stop ;;
    rgw-start) set_dir "${1:-}"; rgw_start ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
