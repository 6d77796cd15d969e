#!/usr/bin/env bash
# Builds native/build/sid_native.node (Node-API, OpenBLAS, and oneDNN where installed) with gcc; nothing is downloaded.
# Prints one line and exits non-zero when a compiler, Node's headers or OpenBLAS is missing.
# Environment: NODE_INCLUDE (default: the first of /usr/include/node, <node prefix>/include/node).
set -uo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$DIR/build"
CC="${CC:-gcc}"

# A failed build leaves no addon behind, so an old one is never taken for this source.
fail() { rm -f "$OUT/sid_native.node"; printf '%s\n' "$*" >&2; exit 1; }

command -v "$CC" >/dev/null 2>&1 || fail "no C compiler ($CC): install build-essential"
inc="${NODE_INCLUDE:-}"
if [[ -z "$inc" ]]; then
  for d in /usr/include/node "$(dirname "$(dirname "$(command -v node)")")/include/node"; do
    if [[ -f "$d/node_api.h" ]]; then inc="$d"; break; fi
  done
fi
[[ -n "$inc" && -f "$inc/node_api.h" ]] || fail "no Node-API headers (node_api.h): install Node's headers (libnode-dev or NodeSource nodejs)"
printf '#include <cblas.h>\nint main(void){openblas_set_num_threads(1);return 0;}\n' |
  "$CC" -x c - -o /dev/null -lopenblas >/dev/null 2>&1 || fail "no OpenBLAS (cblas.h, -lopenblas): install libopenblas-dev"

# oneDNN (libdnnl-dev) is optional: with it the larger products use its sgemm, which picks its kernels
# by the CPU's instruction sets at run time; without it they go to OpenBLAS, as before.
dnnl=()
with="matmuls on oneDNN (small ones in its own loops), OpenBLAS as the alternative"
if printf '#include <oneapi/dnnl/dnnl.h>\nint main(void){return dnnl_sgemm(0,0,0,0,0,0,0,0,0,0,0,0,0)!=0;}\n' |
  "$CC" -x c - -o /dev/null -ldnnl >/dev/null 2>&1; then
  dnnl=(-DSID_DNNL -fopenmp -ldnnl)
else
  with="matmuls on OpenBLAS (small ones in its own loops); oneDNN not found: install libdnnl-dev for AVX-512 matmuls"
fi

mkdir -p "$OUT"
tmp="$OUT/sid_native.node.tmp.$$"
# -march=native: the addon is built on the machine that runs it.
if ! "$CC" -O3 -march=native -fno-math-errno -std=c11 -Wall -Wextra -shared -fPIC -DNAPI_VERSION=8 -DNODE_GYP_MODULE_NAME=sid_native \
     -I"$inc" "$DIR/sid_native.c" "$DIR/fused.c" "$DIR/rows.c" "$DIR/smallgemm.c" "$DIR/copy.c" -o "$tmp" "${dnnl[@]}" -lopenblas -lm 2>"$OUT/build.log"; then
  rm -f "$tmp"
  fail "compiling native/*.c failed (see native/build/build.log)"
fi
mv -f "$tmp" "$OUT/sid_native.node"
# The FMA-peak probe that `sid bench matmul` runs. -ffp-contract=fast: under -std=c11 GCC does not
# contract a * b + c into one FMA by itself, and the probe is made of nothing else.
"$CC" -O3 -march=native -ffp-contract=fast -std=c11 -Wall -Wextra "$DIR/peak.c" -o "$OUT/fma-peak" 2>>"$OUT/build.log" || rm -f "$OUT/fma-peak"
printf 'built %s: %s\n' "$OUT/sid_native.node" "$with"
