#!/usr/bin/env bash
# Source this before running hfss to give the process one GPU of a machine
# with several (`source deploy/bin/select-gpu.sh`).
#
# Deno's WebGPU has no adapter-name setting: it asks wgpu for an adapter,
# which takes the first one after ranking discrete GPUs before integrated,
# virtual and CPU ones, so with identical GPUs every process would use the
# first. Where the scheduler isolates devices (Slurm with cgroup
# ConstrainDevices, Kubernetes' device plugin, docker --gpus), the process
# sees only its own GPU and this script does nothing. Otherwise it takes the
# GPU index from HFSS_GPU, or from CUDA_VISIBLE_DEVICES when that names
# exactly one GPU, looks up its PCI address with nvidia-smi, and asks Mesa's
# Vulkan device-select layer (VK_LAYER_MESA_device_select, installed with
# mesa-vulkan-drivers) to expose only that device. Not tested on a
# multi-GPU machine: see the README.
hfss_select_gpu() {
  local idx=${HFSS_GPU:-${CUDA_VISIBLE_DEVICES:-}}
  if [[ -z $idx || $idx == *,* ]]; then return 0; fi
  command -v nvidia-smi >/dev/null 2>&1 || return 0
  local count
  count=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
  if ((count <= 1)); then return 0; fi
  local bus
  bus=$(nvidia-smi --query-gpu=pci.bus_id --format=csv,noheader -i "$idx") ||
    return 0
  # nvidia-smi: 00000000:17:00.0; the layer: pci-0000_17_00_0
  bus=${bus,,}
  local domain=${bus%%:*} rest=${bus#*:}
  local b=${rest%%:*} df=${rest#*:}
  export DRI_PRIME="pci-${domain: -4}_${b}_${df%%.*}_${df#*.}"
  export MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE=1
  export DENO_WEBGPU_BACKEND=${DENO_WEBGPU_BACKEND:-vulkan}
  echo "hfss: GPU $idx of $count selected (DRI_PRIME=$DRI_PRIME)" >&2
}
hfss_select_gpu
