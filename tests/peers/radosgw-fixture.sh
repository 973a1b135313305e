#!/usr/bin/env bash
# CTest fixture around radosgw.sh: one throw-away S3 server for all S3 tests of a run.
#   radosgw-fixture.sh start DIR  → starts it and writes DIR/radosgw.env (endpoint, keys)
#   radosgw-fixture.sh stop DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$2
case "$1" in
  start)
    "$here/radosgw.sh" stop "$dir" 2>/dev/null || true
    rm -rf "$dir"
    "$here/radosgw.sh" start "$dir" > /dev/null
    key=AKSCIGATE$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
    secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    "$here/radosgw.sh" user "$dir" scigate "$key" "$secret"
    cat > "$dir/radosgw.env" <<ENV
S3_ENDPOINT=$(cat "$dir/endpoint")
S3_ACCESS_KEY_ID=$key
S3_SECRET_ACCESS_KEY=$secret
RADOSGW_DIR=$dir
ENV
    echo "radosgw ready: $(cat "$dir/endpoint")"
    ;;
  stop)
    "$here/radosgw.sh" stop "$dir"
    ;;
esac
