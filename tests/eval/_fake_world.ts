/**
 * A small synthetic evaluation world: S = 8 pixel images over K classes, a
 * linear classifier whose weights are class templates, images that are their
 * template plus seeded noise, a CPU mask filter and low-pass masks.
 */
import { Rng } from "../../src/rng.ts";
import { cpuFilter } from "../../src/fft/cpu_fft.ts";
import type {
  BatchLoader,
  Classifier,
  EvalPart,
  EvalSample,
  MaskFilter,
} from "../../src/eval/runner.ts";

export interface FakeWorldSpec {
  /** Number of classes K. */
  classes: number;
  /** Generator of the class templates. */
  rng: Rng;
  /** Noise amplitude of in-distribution images (out-of-distribution: 0.9). */
  idNoise: number;
  idPerClass: number;
  oodPerClass: number;
}

export function fakeWorld(spec: FakeWorldSpec) {
  const S = 8;
  const K = spec.classes;
  const D = 3 * S * S;
  const templates = Array.from(
    { length: K },
    () => Float32Array.from({ length: D }, () => spec.rng.float()),
  );

  function pixelsOf(path: string, label: number): Float32Array {
    const r = new Rng(11, [path]);
    const noise = path.startsWith("ood") ? 0.9 : spec.idNoise;
    return Float32Array.from(
      templates[label]!,
      (v) => Math.min(1, Math.max(0, 0.5 * v + noise * r.float())),
    );
  }

  // every loaded path and every loader call, for tests of what was re-read
  const loads: string[] = [];
  const calls: EvalSample[][] = [];
  const loader: BatchLoader = async function* (samples, { batchSize }) {
    calls.push(samples);
    for (let i = 0; i < samples.length; i += batchSize) {
      const chunk = samples.slice(i, i + batchSize);
      const t = new Float32Array(chunk.length * D);
      chunk.forEach((s, j) => {
        loads.push(s.path);
        t.set(pixelsOf(s.path, s.label), j * D);
      });
      await Promise.resolve();
      yield { samples: chunk, tensor: t };
    }
  };

  function logitsOne(x: Float32Array, off: number): Float32Array {
    const z = new Float32Array(K);
    for (let k = 0; k < K; k++) {
      let s = 0;
      const w = templates[k]!;
      for (let i = 0; i < D; i++) s += (w[i]! - 0.5) * x[off + i]!;
      z[k] = s;
    }
    return z;
  }
  const classifier: Classifier = {
    run(x, batch) {
      const out = new Float32Array(batch * K);
      for (let b = 0; b < batch; b++) out.set(logitsOne(x, b * D), b * K);
      return Promise.resolve(out);
    },
  };
  const filter: MaskFilter = {
    apply: (images, count, mask, opts) =>
      Promise.resolve(
        cpuFilter(images.subarray(0, count * D), mask, {
          size: S,
          channels: 3,
          ...opts,
        }),
      ),
  };

  /** Low-pass mask of L1 radius `radius` around DC (4, 4). */
  function lowPass(radius: number): Uint8Array {
    const m = new Uint8Array(S * S);
    for (let h = 0; h < S; h++) {
      for (let w = 0; w < S; w++) {
        if (Math.abs(h - 4) + Math.abs(w - 4) <= radius) m[h * S + w] = 1;
      }
    }
    return m;
  }

  const id: EvalSample[] = [];
  const ood: EvalSample[] = [];
  for (let c = 0; c < K; c++) {
    for (let i = 0; i < spec.idPerClass; i++) {
      id.push({ path: `id/${c}/${i}`, label: c });
    }
    for (let i = 0; i < spec.oodPerClass; i++) {
      ood.push({ path: `ood/${c}/${i}`, label: c });
    }
  }
  /** Two parts of one group: the samples numbered 2, and the rest. */
  const oodParts = (): EvalPart[] => [
    {
      name: "a/1",
      group: "a",
      samples: ood.filter((s) => !s.path.endsWith("/2")),
    },
    {
      name: "a/2",
      group: "a",
      samples: ood.filter((s) => s.path.endsWith("/2")),
    },
  ];

  return {
    S,
    K,
    D,
    templates,
    pixelsOf,
    loads,
    calls,
    loader,
    logitsOne,
    classifier,
    filter,
    lowPass,
    id,
    ood,
    oodParts,
  };
}
