#!/usr/bin/env bash
# igvmkit does not link libcurl: it is opened by the first fetch (collateral/internal/curl.h), so
# commands that never fetch do not pay for mapping it and its ~25 dependencies at start-up.
# (fetch_cli_test covers the loaded path end to end.)
#   libcurl_on_demand_test.sh IGVMKIT
set -euo pipefail
igvmkit=$1
needed=$(readelf -d "$igvmkit" | awk '/\(NEEDED\)/ {print $NF}')
echo "NEEDED: $needed" | tr '\n' ' '
echo
if grep -q 'libcurl' <<<"$needed"; then
  echo "FAIL: $igvmkit links libcurl" >&2
  exit 1
fi
# The dynamic loader's own record of what a non-fetching command maps.
loaded=$(LD_DEBUG=files "$igvmkit" --version 2>&1 >/dev/null | grep -o 'file=[^ ]*' | sort -u)
if grep -q 'libcurl' <<<"$loaded"; then
  echo "FAIL: igvmkit --version loads libcurl:" $loaded >&2
  exit 1
fi
if ! grep -q 'libcrypto' <<<"$loaded"; then
  echo "FAIL: LD_DEBUG=files reported nothing usable:" $loaded >&2  # the check itself must work
  exit 1
fi
echo "PASS: libcurl is neither linked nor loaded by igvmkit --version"
