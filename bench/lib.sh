# Shell shared by the bench/run-* scripts that read COGs from a throw-away radosgw
# (run-cog, run-tiles). Source it after `set -euo pipefail`; it sets root, build, out.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build-release
out=$root/bench/results
mkdir -p "$out"

# Release build of the given targets (all when none), with the project's dependencies.
bench_build() {
  "$root/scripts/install-deps"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCIGATE_TESTS=OFF > /dev/null
  cmake --build "$build" ${1:+--target "$@"} > /dev/null
}

bench_free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A temp folder ($work), emptied on exit with everything started in the background.
bench_workdir() {
  work=$(mktemp -d)
  trap bench_cleanup EXIT
}
bench_cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  if [[ -n "${rgw:-}" ]]; then "$root/tests/peers/radosgw-fixture.sh" stop "$rgw" || true; fi
  rm -rf "$work"
}

# radosgw under $work/radosgw ($rgw); exports its S3_* variables and the AWS_* ones of
# its user for the aws CLI. Beast gets tcp_nodelay: without it each GET on a kept-alive
# connection waits ~40 ms for a delayed ACK (see "Stage-in" in docs/BENCHMARKS.md), which
# would time radosgw, not the readers.
bench_radosgw() {
  rgw=$work/radosgw
  "$root/tests/peers/radosgw-fixture.sh" start "$rgw" > /dev/null
  set -a
  . "$rgw/radosgw.env"
  set +a
  sed -i 's/^rgw frontends = beast endpoint=[^ ]*$/& tcp_nodelay=1/' "$rgw/ceph.conf"
  "$root/tests/peers/radosgw.sh" stop-gateway "$rgw" > /dev/null
  "$root/tests/peers/radosgw.sh" start-gateway "$rgw" > /dev/null
  export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1
}

# bench_proxy VAR LOG: a counting proxy (bench/counting_proxy.py) in front of radosgw,
# logging to LOG; sets VAR to its host:port.
bench_proxy() {
  local -n addr=$1
  local log=$2
  : > "$log"
  /usr/bin/python3 "$root/bench/counting_proxy.py" "${S3_ENDPOINT#http://}" "$log" > "$log.port" &
  for _ in $(seq 50); do [[ -s "$log.port" ]] && break; sleep 0.1; done
  addr=127.0.0.1:$(cat "$log.port")
}

# bench_gets LOG: "GETS BYTES HEADS" logged by a counting proxy so far.
bench_gets() { awk '$1 == "GET" {g++; b += $5} $1 == "HEAD" {h++} END {printf "%d %d %d\n", g, b, h}' "$1"; }

# bench_cog BUCKET KEY WEST NORTH PIXEL_DEGREES: the benchmarks' COG (bench/make_cog.py)
# at $work/KEY, uploaded to BUCKET (created).
bench_cog() {
  mkdir -p "$(dirname "$work/$2")"
  /usr/bin/python3 "$root/bench/make_cog.py" "$work/$2" "$3" "$4" "$5"
  /usr/bin/aws --endpoint-url "$S3_ENDPOINT" s3 mb "s3://$1" > /dev/null
  /usr/bin/aws --endpoint-url "$S3_ENDPOINT" s3 cp --quiet "$work/$2" "s3://$1/$2"
}
