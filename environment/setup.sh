#!/usr/bin/env bash
# Sets up this checkout on Debian 12 with Node 20: Debian packages for headless notebooks and
# report rendering, the npm dependencies, and a project-local Jupyter kernel for TypeScript.
# Idempotent: safe to run again; it skips what is already in place.
#
# Environment:
#   SID_SKIP_APT=1       never call apt-get (packages are managed elsewhere)
#   SID_WITH_NOTEBOOK=1  also install Debian's classic Jupyter Notebook (to open notebooks interactively)
#   SID_FORCE_NPM_CI=1   run `npm ci` even when node_modules already matches package-lock.json
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PY=/usr/bin/python3
APT_PACKAGES=(python3-nbconvert python3-nbclient python3-jupyter-client python3-ipykernel python3-onnx chromium unzip zip slurm-wlm munge)
if [[ "${SID_WITH_NOTEBOOK:-0}" == "1" ]]; then APT_PACKAGES+=(jupyter-notebook); fi

log() { printf '[setup] %s\n' "$*" >&2; }

# --- 1. Debian packages ---------------------------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  log "Debian packages present: ${APT_PACKAGES[*]}"
elif [[ "${SID_SKIP_APT:-0}" == "1" ]]; then
  log "SID_SKIP_APT=1: not installing missing Debian packages: ${missing[*]}"
else
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
  log "installing Debian packages: ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! "$PY" -c 'import nbconvert, nbclient, jupyter_client, ipykernel' 2>/dev/null; then
  log "ERROR: $PY cannot import nbconvert/nbclient/jupyter_client/ipykernel;"
  log "       install python3-nbconvert python3-nbclient python3-jupyter-client python3-ipykernel"
  exit 1
fi

# --- 1b. Vulkan for the webgpu backend ----------------------------------------------------------------
# Dawn (npm `webgpu`) reaches the GPU through the Vulkan loader. NVIDIA's driver ships its own Vulkan
# driver, so there the loader is enough. Elsewhere Mesa's Vulkan drivers are installed: radv / anv on
# AMD / Intel GPUs, llvmpipe (a software device, what CI tests webgpu on) where there is no GPU. Only
# Mesa 25 from bookworm-backports works: bookworm's own 22.3 lacks a feature Dawn requires, and Dawn
# then finds no adapter. A failure here is not fatal: the webgpu tests then skip and say why.
vulkan_setup() {
  local want=(libvulkan1) need_mesa=1 ver
  if [[ -e /dev/nvidia0 ]]; then need_mesa=0; fi
  if [[ $need_mesa -eq 1 ]]; then
    ver=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
    if [[ "${ver%%.*}" =~ ^[0-9]+$ && "${ver%%.*}" -ge 25 ]]; then need_mesa=0; fi
  fi
  if dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'install ok installed'; then want=(); fi
  if [[ ${#want[@]} -eq 0 && $need_mesa -eq 0 ]]; then
    VULKAN_STATUS="present (mesa-vulkan-drivers ${ver:-not needed})"
    return 0
  fi
  if [[ "${SID_SKIP_APT:-0}" == "1" ]]; then
    VULKAN_STATUS="not installed (SID_SKIP_APT=1): webgpu tests will skip"
    return 0
  fi
  local sudo=() suite=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  # Backports only on bookworm; a newer release's own Mesa is recent enough.
  if grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release; then suite=(-t bookworm-backports); fi
  if [[ $need_mesa -eq 1 && ${#suite[@]} -gt 0 ]] && ! grep -qs '^deb .*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; then
    echo 'deb http://deb.debian.org/debian bookworm-backports main' | "${sudo[@]}" tee /etc/apt/sources.list.d/backports.list >/dev/null || return 1
  fi
  log "installing Vulkan for webgpu: ${want[*]}${want[*]:+ }$([[ $need_mesa -eq 1 ]] && echo "mesa-vulkan-drivers ${suite[*]}")"
  "${sudo[@]}" apt-get update -qq 2>/dev/null || return 1
  if [[ ${#want[@]} -gt 0 ]]; then
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null 2>&1 || return 1
  fi
  if [[ $need_mesa -eq 1 ]]; then
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${suite[@]}" mesa-vulkan-drivers >/dev/null 2>&1 || return 1
  fi
  VULKAN_STATUS="installed (mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo 'not needed'))"
}
VULKAN_STATUS=""
if ! vulkan_setup; then
  VULKAN_STATUS="FAILED to install libvulkan1 / mesa-vulkan-drivers (bookworm-backports): webgpu tests will skip"
  log "vulkan: $VULKAN_STATUS"
fi

# --- 2. npm dependencies --------------------------------------------------------------------------
# `npm ci` wipes node_modules, so it runs only when the installed tree differs from package-lock.json.
node_modules_current() {
  node -e '
    const fs = require("fs"), path = require("path");
    const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
    for (const [p, info] of Object.entries(lock.packages || {})) {
      if (!p || info.optional || info.link || !p.startsWith("node_modules/")) continue;
      let v;
      try { v = JSON.parse(fs.readFileSync(path.join(p, "package.json"), "utf8")).version; } catch { process.exit(1); }
      if (v !== info.version) process.exit(1);
    }
  ' 2>/dev/null
}
if [[ "${SID_FORCE_NPM_CI:-0}" != "1" && -d node_modules ]] && node_modules_current; then
  log "node_modules matches package-lock.json: skipping npm ci"
else
  log "running npm ci"
  npm ci --no-audit --no-fund
fi

# --- 2b. native kernels (oneDNN, OpenBLAS) --------------------------------------------------------
# native/build.sh compiles the Node-API addon that runs the wasm backend's matmuls on oneDNN or
# OpenBLAS (lib/backend/nativeMatMul.ts). It needs gcc (build-essential), OpenBLAS (libopenblas-dev)
# and Node's headers (/usr/include/node, shipped with NodeSource's nodejs); oneDNN (libdnnl-dev) is
# optional. Nothing here is fatal: without the addon the project runs on the wasm kernels, and this
# step says why in one line.
native_setup() {
  local want=() p
  for p in build-essential libopenblas-dev libdnnl-dev; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then want+=("$p"); fi
  done
  if [[ ${#want[@]} -gt 0 && "${SID_SKIP_APT:-0}" != "1" ]]; then
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
    log "installing Debian packages for the native kernels: ${want[*]}"
    { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${want[@]}"; } >/dev/null 2>&1 ||
      log "native: apt-get install ${want[*]} failed"
  fi
  NATIVE_STATUS="$(bash "$ROOT/native/build.sh" 2>&1 | tail -n1)"
  [[ -f "$ROOT/native/build/sid_native.node" ]]
}
NATIVE_STATUS=""
if native_setup; then
  NATIVE_STATUS="${NATIVE_STATUS#built $ROOT/} (SID_NATIVE=0 turns them off)"
else
  NATIVE_STATUS="not built, the wasm kernels are used: ${NATIVE_STATUS}"
  log "native: $NATIVE_STATUS"
fi

# --- 3. project-local TypeScript kernel -------------------------------------------------------------
# tslab resolves TypeScript imports from the kernel's working directory, and Jupyter starts kernels in
# the notebook's folder, so the kernel is started through sh after a cd to the project root: notebook
# cells then import `./lib/...`. The spec holds this checkout's absolute path, hence it is written
# here (in the git-ignored .jupyter/) rather than committed.
KDIR="$ROOT/.jupyter/share/jupyter/kernels/sid-ts"
mkdir -p "$KDIR"
ROOT="$ROOT" node -e '
  const fs = require("fs");
  const root = process.env.ROOT;
  const q = (s) => "\x27" + s.replace(/\x27/g, "\x27\\\x27\x27") + "\x27";
  const spec = {
    argv: ["/bin/sh", "-c",
      `cd ${q(root)} && exec ${q(root + "/node_modules/.bin/tslab")} kernel --config-path "$0"`,
      "{connection_file}"],
    display_name: "TypeScript (sid)",
    language: "typescript",
    metadata: { sid_project_root: root },
  };
  const target = process.argv[1];
  fs.writeFileSync(target + ".tmp", JSON.stringify(spec, null, 1) + "\n");
  fs.renameSync(target + ".tmp", target);
' "$KDIR/kernel.json"

if [[ ! -x "$ROOT/node_modules/.bin/tslab" ]]; then
  log "ERROR: node_modules/.bin/tslab is missing after npm install"
  exit 1
fi

# --- 4. summary -----------------------------------------------------------------------------------
log "summary:"
log "  node        $(node --version)"
log "  nbconvert   $("$PY" -m nbconvert --version 2>/dev/null)"
log "  tslab       $(node -p 'require("./node_modules/tslab/package.json").version')"
if command -v chromium >/dev/null 2>&1; then
  log "  chromium    $(chromium --version 2>/dev/null | head -n1)"
else
  log "  chromium    absent (report rendering test will be skipped)"
fi
log "  vulkan      ${VULKAN_STATUS}"
log "  native      ${NATIVE_STATUS}"
log "  kernel      sid-ts -> $KDIR/kernel.json"
log "  use with    export JUPYTER_PATH=$ROOT/.jupyter/share/jupyter"
