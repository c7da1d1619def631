#!/usr/bin/env bash
# One-time machine setup, safe to rerun: the software Vulkan driver (lavapipe)
# where apt is available and we are root, then Deno's npm imports.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1 || ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing the software Vulkan driver (mesa-vulkan-drivers libvulkan1)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1) >/dev/null ||
      echo "setup: could not install mesa-vulkan-drivers; WebGPU falls back to the slower GL adapter" >&2
  else
    echo "setup: no Vulkan driver found and cannot install one (needs root and apt); WebGPU will use what the system has" >&2
  fi
fi
DENO="node_modules/.bin/deno"
[ -x "$DENO" ] || { echo "setup: $DENO is missing: run npm ci first" >&2; exit 1; }
DENO_NO_UPDATE_CHECK=1 "$DENO" install --quiet >/dev/null
