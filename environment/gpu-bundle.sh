#!/usr/bin/env bash
# Writes a self-contained folder for an offline GPU machine: `sid bench` and the webgpu kernel tests
# with their own Node binary, Dawn (dawn.node) and a Vulkan loader, so the machine needs only its GPU
# driver. Run it here, after `bash environment/setup.sh` (it uses node_modules), then copy the folder:
#
#   bash environment/gpu-bundle.sh [OUT_DIR]          # default: dist/sid-gpu
#   scp -r dist/sid-gpu gpu-host:                      # about 40 MB
#   ssh gpu-host sid-gpu/run test                      # kernel tests on the GPU
#   ssh gpu-host sid-gpu/run sid bench matmul          # any `sid bench` (webgpu by default)
#
# Layout: run (the entry script), README.txt, payload.tar.xz (node, dawn.node, libvulkan.so.1, the
# bundled JS). The first `run` unpacks the payload beside itself (or, if that folder is read-only,
# under ${XDG_CACHE_HOME:-~/.cache}/sid-gpu); later runs reuse it. Linux x86-64 / arm64 only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/dist/sid-gpu}"
MAX_MB=60
log() { printf '[gpu-bundle] %s\n' "$*" >&2; }

case "$(uname -m)" in
  x86_64) ARCH=x64 ;;
  aarch64) ARCH=arm64 ;;
  *) log "unsupported machine $(uname -m)"; exit 1 ;;
esac
ESBUILD="$ROOT/node_modules/@esbuild/linux-$ARCH/bin/esbuild"
DAWN="$ROOT/node_modules/webgpu/dist/linux-$ARCH/dawn.node"
for f in "$ESBUILD" "$DAWN"; do
  [[ -e "$f" ]] || { log "missing $f: run bash environment/setup.sh first"; exit 1; }
done
NODE_BIN="$(readlink -f "$(command -v node)")"
if ldd "$NODE_BIN" 2>/dev/null | grep -q 'libnode\.so'; then
  log "$NODE_BIN links libnode.so (a distribution build): use the official Node build (nodejs.org or NodeSource)"
  exit 1
fi
VULKAN="$(ldconfig -p 2>/dev/null | awk '/libvulkan\.so\.1 / && /x86-64|AArch64/ {print $NF; exit}')"

BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT
mkdir -p "$BUILD/src" "$BUILD/payload/tests"

# Entry points. The prelude tells lib/backend where Dawn lies and hands it the webgpu backend
# package, which node_modules would otherwise provide.
cat > "$BUILD/src/prelude.ts" <<EOF
import * as path from 'node:path';
import * as webgpuBackend from '@tensorflow/tfjs-backend-webgpu';
import { setDawnAddonPath } from '$ROOT/lib/backend/webgpuDawn';
import { setWebGpuBackendModule } from '$ROOT/lib/backend/webgpu';
setDawnAddonPath(path.join(path.dirname(__dirname), 'dawn.node'));
setWebGpuBackendModule(webgpuBackend as never);
EOF
# Test bundles live in tests/, the CLI in bin/: both one level below dawn.node.
cat > "$BUILD/src/sid.ts" <<EOF
import './prelude';
import { main } from '$ROOT/lib/cli/main';
process.exitCode = await main(process.argv.slice(2));
EOF
TESTS=(backend-webgpu backend-ops backend-matmul embed-kernels)
for t in "${TESTS[@]}"; do
  printf "import './prelude';\nimport '%s/test/%s.test.ts';\n" "$ROOT" "$t" > "$BUILD/src/$t.test.ts"
done

# ESM bundles (the tests use top-level await); CommonJS code inside them gets require / __dirname
# from the banner. Packages that only notebooks and pretrained encoders load stay out.
BANNER="import { createRequire as __sidCreateRequire } from 'node:module'; import { fileURLToPath as __sidFileUrl } from 'node:url'; import * as __sidPath from 'node:path'; const require = __sidCreateRequire(import.meta.url); const __filename = __sidFileUrl(import.meta.url); const __dirname = __sidPath.dirname(__filename);"
bundle() {
  NODE_PATH="$ROOT/node_modules" "$ESBUILD" "$1" --bundle --platform=node --format=esm --target=node20 \
    --outfile="$2" --banner:js="$BANNER" --log-level=error \
    --external:onnxruntime-node --external:sharp --external:@huggingface/transformers
}
mkdir -p "$BUILD/payload/bin"
bundle "$BUILD/src/sid.ts" "$BUILD/payload/bin/sid.mjs"
for t in "${TESTS[@]}"; do bundle "$BUILD/src/$t.test.ts" "$BUILD/payload/tests/$t.test.mjs"; done
cp "$DAWN" "$BUILD/payload/dawn.node"
cp "$NODE_BIN" "$BUILD/payload/node"
if [[ -n "$VULKAN" ]]; then
  mkdir -p "$BUILD/payload/lib"
  cp -L "$VULKAN" "$BUILD/payload/lib/libvulkan.so.1"
else
  log "no libvulkan.so.1 here: the GPU machine must provide the Vulkan loader (libvulkan1)"
fi
printf '%s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" > "$BUILD/payload/VERSION"

rm -rf "$OUT"
mkdir -p "$OUT"
log "compressing (xz)"
tar -C "$BUILD/payload" -cf - . | xz -6 -T0 > "$OUT/payload.tar.xz"

cat > "$OUT/run" <<'EOF'
#!/usr/bin/env bash
# sid GPU bundle. Usage:
#   run test                 the webgpu kernel tests (Node's test runner)
#   run sid <args...>        the sid command, e.g. `run sid bench matmul` (SID_BACKEND=webgpu unless set)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STAMP="$(cksum < "$HERE/payload.tar.xz" | cut -d' ' -f1)"
X="$HERE/.unpacked"
if ! { mkdir -p "$X" && [[ -w "$X" ]]; } 2>/dev/null; then X="${XDG_CACHE_HOME:-$HOME/.cache}/sid-gpu"; fi
if [[ "$(cat "$X/.stamp" 2>/dev/null)" != "$STAMP" ]]; then
  command -v xz >/dev/null || { echo "run: needs xz to unpack payload.tar.xz (xz-utils)" >&2; exit 1; }
  rm -rf "$X" && mkdir -p "$X"
  xz -dc "$HERE/payload.tar.xz" | tar -C "$X" -xf -
  echo "$STAMP" > "$X/.stamp"
fi
# Dawn loads libvulkan.so.1: the system's when there is one, else the copy in the bundle.
if [[ -d "$X/lib" ]] && ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  export LD_LIBRARY_PATH="$X/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
cmd="${1:-}"
shift || true
case "$cmd" in
  test)
    cd "$X"
    export SID_BUNDLE=1 SID_QUIET=1 SID_WEBGPU_CPU_FORWARD=0 SID_BACKEND_OVERRIDE=webgpu
    "$X/node" --test --test-concurrency=1 tests/backend-webgpu.test.mjs tests/backend-ops.test.mjs tests/embed-kernels.test.mjs "$@"
    # The first matmul test checks wasm's own kernel wrappers: left out on webgpu.
    "$X/node" --test --test-name-pattern='^(tf\.matMul equals a brute-force|matMul gradients equal|fused matMul|no tensors or backend buffers leak)' tests/backend-matmul.test.mjs "$@"
    ;;
  sid)
    export SID_BACKEND="${SID_BACKEND:-webgpu}"
    exec "$X/node" "$X/bin/sid.mjs" "$@"
    ;;
  *)
    sed -n '2,4p' "$0" >&2
    exit 2
    ;;
esac
EOF
chmod +x "$OUT/run"
cat > "$OUT/README.txt" <<EOF
sid GPU bundle ($(cat "$BUILD/payload/VERSION")), Linux $(uname -m). Needs only a GPU driver with Vulkan
(NVIDIA's driver ships one; AMD / Intel: Mesa's radv / anv) and xz to unpack.

  ./run test                    webgpu kernel tests against known answers
  ./run sid bench matmul        benchmarks: matmul | contrastive | kmeans | seq2seq (add --json)

The backend line names the adapter. "SOFTWARE adapter" there means Dawn found no GPU and runs on the
CPU (llvmpipe): check that the driver's Vulkan part is installed (vulkaninfo --summary).
EOF
size_mb=$(du -sm "$OUT" | cut -f1)
log "wrote $OUT (${size_mb} MB)"
if [[ $size_mb -ge $MAX_MB ]]; then log "bundle is ${size_mb} MB, over ${MAX_MB} MB"; exit 1; fi
