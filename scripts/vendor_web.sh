#!/usr/bin/env bash
# Refreshes the web app's vendored JavaScript and base map from npm (run by hand when a version
# changes; the files are committed, so setup and run time fetch nothing):
#   leaflet (BSD-2-Clause), topojson-client (ISC), world-atlas (ISC; Natural Earth, public domain)
# Usage: scripts/vendor_web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LEAFLET=1.9.4 TOPOJSON=3.1.0 ATLAS=2.0.2
out=strikewatch/services/web/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "leaflet@$LEAFLET" "topojson-client@$TOPOJSON" "world-atlas@$ATLAS")
m=$tmp/node_modules
mkdir -p "$out"
cp "$m/leaflet/dist/leaflet.js" "$m/leaflet/dist/leaflet.css" "$out/"
cp "$m/leaflet/LICENSE" "$out/LICENSE.leaflet"
cp "$m/topojson-client/dist/topojson-client.min.js" "$out/"
cp "$m/topojson-client/LICENSE" "$out/LICENSE.topojson-client"
cp "$m/world-atlas/countries-50m.json" "$out/"
cp "$m/world-atlas/LICENSE" "$out/LICENSE.world-atlas"
cat > "$out/VERSIONS.md" <<MD
# Vendored web dependencies (scripts/vendor_web.sh)

| package | version | licence | files |
| --- | --- | --- | --- |
| leaflet | $LEAFLET | BSD-2-Clause | leaflet.js, leaflet.css |
| topojson-client | $TOPOJSON | ISC | topojson-client.min.js |
| world-atlas | $ATLAS | ISC (data: Natural Earth, public domain) | countries-50m.json |

All three licences allow redistribution with the licence text, which sits beside each file.
MD
ls -la "$out"
