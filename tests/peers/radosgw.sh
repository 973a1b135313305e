#!/usr/bin/env bash
# A throw-away one-node Ceph cluster with an S3 gateway (radosgw) that checks SigV4, on
# free loopback ports, under a temp folder. Debian's ceph-mon/ceph-osd/radosgw.
#   radosgw.sh start DIR   → prints "endpoint=http://127.0.0.1:PORT" once S3 answers
#   radosgw.sh stop DIR
#   radosgw.sh user DIR UID ACCESS SECRET   → creates an S3 user with these keys
#   radosgw.sh rmkey DIR UID ACCESS         → removes a key (it stops working)
# Facts (learned setting it up): memstore OSD, auth none, msgr v1 only, pool size 1, no mgr, beast
# frontend; the monitor map names v1 explicitly or clients hang.
set -euo pipefail
cmd=$1
dir=$(cd "$2" 2>/dev/null && pwd || { mkdir -p "$2" && cd "$2" && pwd; })
conf=$dir/ceph.conf
ceph_cli() { timeout 20 ceph -c "$conf" --connect-timeout 10 "$@"; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() {
  local mon_port rgw_port fsid
  mon_port=$(free_port)
  rgw_port=$(free_port)
  fsid=$(/usr/bin/python3 -c 'import uuid; print(uuid.uuid4())')
  mkdir -p "$dir"/{run,log,mon,osd/ceph-0,rgw}
  cat > "$conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms bind msgr2 = false
ms bind msgr1 = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
mon data = $dir/mon/\$cluster-\$id
osd data = $dir/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 2147483648
osd op num threads per shard = 1
osd op num shards = 2
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
rgw dns name = localhost
rgw thread pool size = 64
CONF
  monmaptool --create --clobber --addv a "[v1:127.0.0.1:$mon_port]" --fsid "$fsid" "$dir/monmap" > /dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring /dev/null
  ceph-mon -c "$conf" -i a
  local id=""
  for _ in $(seq 60); do
    id=$(ceph_cli osd create 2>/dev/null) && break
    sleep 0.5
  done
  [[ "$id" == "0" ]] || { echo "radosgw.sh: osd create failed" >&2; exit 1; }
  ceph-osd -c "$conf" -i 0 --mkfs --mkkey 2>/dev/null || ceph-osd -c "$conf" -i 0 --mkfs
  # The OSD sometimes sends its first monitor command before it knows the cluster's fsid
  # ("mon_cmd_maybe_osd_create fail: 'wrong fsid'") and exits: start it again.
  local started=""
  for _ in 1 2 3 4 5; do
    if ceph-osd -c "$conf" -i 0 2>> "$dir/log/osd-start.err"; then started=1; break; fi
    sleep 1
  done
  [[ -n "$started" ]] || { echo "radosgw.sh: ceph-osd did not start; see $dir/log" >&2; cat "$dir/log/osd-start.err" >&2; exit 1; }
  radosgw -c "$conf" -n client.rgw
  for _ in $(seq 240); do
    if curl -s -o /dev/null "http://127.0.0.1:$rgw_port/"; then
      echo "endpoint=http://127.0.0.1:$rgw_port"
      echo "http://127.0.0.1:$rgw_port" > "$dir/endpoint"
      return 0
    fi
    sleep 0.25
  done
  echo "radosgw.sh: radosgw did not answer; see $dir/log" >&2
  exit 1
}

stop() {
  for f in "$dir"/run/*.pid; do
    [[ -f "$f" ]] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 0.5
  for f in "$dir"/run/*.pid; do
    [[ -f "$f" ]] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
}

# Only the gateway, for tests of an S3 outage: the cluster stays up.
stop_gateway() {
  local f="$dir/run/client.rgw.pid" pid
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
}
start_gateway() {
  radosgw -c "$conf" -n client.rgw
  local endpoint
  endpoint=$(cat "$dir/endpoint")
  for _ in $(seq 240); do curl -s -o /dev/null "$endpoint/" && return 0; sleep 0.25; done
  echo "radosgw.sh: radosgw did not come back" >&2
  exit 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  stop-gateway) stop_gateway ;;
  start-gateway) start_gateway ;;
  # radosgw-admin runs share one admin socket: serialise them.
  user) flock "$dir/admin.lock" timeout 60 radosgw-admin -c "$conf" user create --uid="$3" --display-name="$3" --access-key="$4" --secret-key="$5" > /dev/null ;;
  addkey) flock "$dir/admin.lock" timeout 60 radosgw-admin -c "$conf" key create --uid="$3" --key-type=s3 --access-key="$4" --secret-key="$5" > /dev/null ;;
  rmkey) flock "$dir/admin.lock" timeout 60 radosgw-admin -c "$conf" key rm --uid="$3" --key-type=s3 --access-key="$4" > /dev/null ;;
  *) echo "usage: radosgw.sh start|stop|user|addkey|rmkey DIR ..." >&2; exit 2 ;;
esac
