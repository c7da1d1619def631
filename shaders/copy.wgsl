// copy.wgsl: dst[i] = src[i] over vec4f words; used to measure the device's
// achievable memory bandwidth (bytes read + written per second).
//
// Bindings:
//   @binding(0) src  array<vec4f> (read)
//   @binding(1) dst  array<vec4f> (read_write)
// Layout: flat. Normalisation: none. Dispatch: x = ceil(words / (WG * PER)),
// each invocation copies PER words strided by the workgroup size.
// Overrides: WG (invocations per workgroup), PER (words per invocation).

override WG: u32 = 256u;
override PER: u32 = 4u;

@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let n = arrayLength(&dst);
  let group = (wid.y * nwg.x + wid.x) * WG * PER;
  for (var k = 0u; k < PER; k++) {
    let i = group + k * WG + lid;
    if (i < n) {
      dst[i] = src[i];
    }
  }
}
