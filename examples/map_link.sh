#!/usr/bin/env bash
# Prints a map.html URL that opens in a plain browser (no token): asks scigate's tilejson.json
# with the token for the same query and reuses the signed grant its tile URLs carry.
#
#   TOKEN=... examples/map_link.sh 'data_selection=nebraska_rasters&path=lincoln_scene.tif&bidx=3&bidx=2&bidx=1&rescale=0,2000'
#   TOKEN=... examples/map_link.sh "run=$RUN&path=lincoln_scene_ndvi.tif&rescale=-0.2,0.9&colormap_name=rdylgn"
#
# QUERY is a query string, already URL-encoded. Environment: TOKEN (required), SCIGATE_URL
# (default http://127.0.0.1:8080), TMS (default WebMercatorQuad). The grant lasts
# raster.grant_ttl of the server's config.
set -euo pipefail
if [[ $# -ne 1 || -z "${TOKEN:-}" ]]; then
  echo "usage: TOKEN=JWT [SCIGATE_URL=http://host:port] $0 QUERY" >&2
  exit 2
fi
base=${SCIGATE_URL:-http://127.0.0.1:8080}
base=${base%/}
tms=${TMS:-WebMercatorQuad}
query=$1

tilejson=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$base/cog/$tms/tilejson.json?$query") || {
  echo "map_link: tilejson.json for '$query' failed (see the status above)" >&2
  exit 1
}
grant=$(/usr/bin/python3 -c '
import json, sys, urllib.parse
tiles = json.loads(sys.argv[1])["tiles"]
grants = urllib.parse.parse_qs(urllib.parse.urlsplit(tiles[0]).query).get("grant")
if not grants:
    sys.exit("map_link: the tile URL carries no grant: " + tiles[0])
print(urllib.parse.quote(grants[0], safe=""))
' "$tilejson")
echo "$base/cog/$tms/map.html?$query&grant=$grant"
