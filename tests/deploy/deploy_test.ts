/**
 * The deploy examples: every script passes `bash -n`; the Slurm submitter,
 * run against a stand-in `sbatch` that records its calls, chains one array
 * job per stage and a merge job after each; the Kubernetes driver, run
 * against a stand-in `kubectl` that records what it applies, produces
 * manifests that parse as YAML with the fields an Indexed Job and a merge
 * Job need. Nothing here runs on a real cluster.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, parseAllDocuments } from "yaml";

const kDeploy = fileURLToPath(new URL("../../deploy/", import.meta.url));

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, env, stdin: "null" })
    .output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

async function have(tool: string): Promise<boolean> {
  return (await run("bash", ["-c", `command -v ${tool}`])).code === 0;
}

Deno.test("deploy scripts pass bash -n", async () => {
  const scripts = [
    "bin/select-gpu.sh",
    "slurm/submit.sh",
    "slurm/shard.sbatch",
    "slurm/merge.sbatch",
    "k8s/run.sh",
  ];
  for (const s of scripts) {
    const r = await run("bash", ["-n", join(kDeploy, s)]);
    assert.equal(r.code, 0, `${s}: ${r.stderr}`);
  }
});

/** A stand-in for a cluster tool: appends its arguments (and stdin) to a log. */
async function fakeTool(dir: string, name: string, body: string) {
  const path = join(dir, name);
  await Deno.writeTextFile(path, `#!/usr/bin/env bash\n${body}\n`);
  await Deno.chmod(path, 0o755);
}

Deno.test("slurm/submit.sh chains one array job per stage, each after the previous merge", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    // sbatch: log the arguments, print a job id (with a cluster suffix, as --parsable may).
    await fakeTool(
      tmp,
      "sbatch",
      `n=$(($(wc -l < "$FAKE_LOG" 2>/dev/null || echo 0) + 101))
printf '%s\\n' "$*" >> "$FAKE_LOG"
echo "$n;cluster"`,
    );
    const log = join(tmp, "sbatch.log");
    const r = await run("bash", [
      join(kDeploy, "slurm/submit.sh"),
      "--split",
      "0.05",
    ], {
      PATH: `${tmp}:${Deno.env.get("PATH")}`,
      FAKE_LOG: log,
      MODEL: "/m.onnx",
      DATA: "/data",
      OUT: join(tmp, "run"),
      SHARDS: "4",
      STAGES: "1 2 3",
      EVAL_ID: "/val",
      SBATCH_FLAGS: "--partition=gpu",
    });
    assert.equal(r.code, 0, r.stderr);
    const calls = (await Deno.readTextFile(log)).trim().split("\n");
    assert.equal(calls.length, 8); // 3 stages x (shards, merge) + eval (shards, merge)
    for (let s = 0; s < 3; s++) {
      const shards = calls[2 * s]!, merge = calls[2 * s + 1]!;
      assert.match(shards, /^--parsable --partition=gpu /);
      assert.match(shards, /--array=1-4 /);
      assert.match(
        shards,
        /shard\.sbatch search --model \/m\.onnx --data \/data/,
      );
      assert.match(shards, new RegExp(`--stage ${s + 1} --split 0\\.05$`));
      // Stage 1 waits for nothing; stage k waits for merge k-1 (job 101 + 2k - 1).
      if (s === 0) assert.doesNotMatch(shards, /--dependency/);
      else {assert.match(
          shards,
          new RegExp(`--dependency=afterok:${100 + 2 * s} `),
        );}
      assert.match(merge, new RegExp(`--dependency=afterok:${101 + 2 * s} `));
      assert.match(
        merge,
        new RegExp(`merge\\.sbatch --stage .*/run/stage${s + 1}$`),
      );
    }
    assert.match(
      calls[6]!,
      /--dependency=afterok:106 .*shard\.sbatch eval .*--dfm .*\/run\/stage3 --id \/val/,
    );
    assert.match(
      calls[7]!,
      /--dependency=afterok:107 .*merge\.sbatch --eval .*\/run\/eval$/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("slurm/shard.sbatch runs the command with --shard <task>/<n>", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    // A stand-in checkout: scripts/hfss echoes its arguments.
    const home = join(tmp, "home");
    await Deno.mkdir(join(home, "deploy/bin"), { recursive: true });
    await Deno.copyFile(
      join(kDeploy, "bin/select-gpu.sh"),
      join(home, "deploy/bin/select-gpu.sh"),
    );
    await Deno.mkdir(join(home, "scripts"), { recursive: true });
    await fakeTool(join(home, "scripts"), "hfss", `echo "hfss $*"`);
    const r = await run("bash", [
      join(kDeploy, "slurm/shard.sbatch"),
      "search",
      "--stage",
      "2",
    ], {
      PATH: Deno.env.get("PATH")!,
      HFSS_HOME: home,
      SHARDS: "4",
      SLURM_ARRAY_TASK_ID: "3",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "hfss search --stage 2 --shard 3/4");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("k8s manifests parse as YAML with the fields an Indexed Job, a merge Job and the volume need", async () => {
  const pvc = parseYaml(
    await Deno.readTextFile(join(kDeploy, "k8s/pvc.yaml")),
  );
  assert.equal(pvc.kind, "PersistentVolumeClaim");
  assert.ok(pvc.spec.accessModes.includes("ReadWriteMany"));
  if (!(await have("envsubst"))) {
    // envsubst (gettext-base) is what run.sh fills the templates with.
    console.log("skipped: envsubst not installed");
    return;
  }
  const tmp = await Deno.makeTempDir();
  try {
    const applied = join(tmp, "applied");
    await Deno.mkdir(applied);
    // kubectl: `apply -f -` stores the manifest under its name; `get job X`
    // reports X complete once applied.
    await fakeTool(
      tmp,
      "kubectl",
      `if [[ $1 == apply ]]; then
  m=$(cat); name=$(printf '%s\\n' "$m" | sed -n 's/^  name: //p' | head -1)
  printf '%s\\n' "$m" > "$FAKE_DIR/$name.yaml"; echo "job.batch/$name created"
elif [[ $1 == get && -f "$FAKE_DIR/$3.yaml" ]]; then echo -n "Complete "
else exit 1; fi`,
    );
    const r = await run("bash", [
      join(kDeploy, "k8s/run.sh"),
      "--split",
      "0.05",
    ], {
      PATH: `${tmp}:${Deno.env.get("PATH")}`,
      FAKE_DIR: applied,
      IMAGE: "registry.example/hfss:0.1.0",
      SHARDS: "16",
      RUN: "r50",
      MODEL: "/work/models/r50.onnx",
      DATA: "/work/imagenet/train",
      STAGES: "1 2",
    });
    assert.equal(r.code, 0, r.stderr);
    const names = [];
    for await (const e of Deno.readDir(applied)) names.push(e.name);
    assert.deepEqual(names.sort(), [
      "hfss-r50-m1.yaml",
      "hfss-r50-m2.yaml",
      "hfss-r50-s1.yaml",
      "hfss-r50-s2.yaml",
    ]);
    const load = async (name: string) => {
      const text = await Deno.readTextFile(join(applied, name));
      assert.doesNotMatch(text, /\$\{/, `${name}: unfilled template field`);
      const docs = parseAllDocuments(text);
      assert.equal(docs.length, 1);
      assert.deepEqual(docs[0]!.errors, []);
      return docs[0]!.toJS();
    };
    const job = await load("hfss-r50-s2.yaml");
    assert.equal(job.apiVersion, "batch/v1");
    assert.equal(job.kind, "Job");
    assert.equal(job.metadata.name, "hfss-r50-s2");
    assert.equal(job.spec.completionMode, "Indexed");
    assert.equal(job.spec.completions, 16);
    assert.equal(job.spec.parallelism, 16);
    const pod = job.spec.template.spec;
    assert.ok(["Never", "OnFailure"].includes(pod.restartPolicy));
    const c = pod.containers[0];
    assert.equal(c.image, "registry.example/hfss:0.1.0");
    assert.match(
      c.args.join(" "),
      /--shard "\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\/\$HFSS_SHARDS"/,
    );
    const env = Object.fromEntries(
      c.env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    assert.equal(
      env.HFSS_ARGS,
      "search --model /work/models/r50.onnx --data /work/imagenet/train --out /work/runs/r50 --stage 2 --split 0.05",
    );
    assert.equal(env.HFSS_SHARDS, "16");
    assert.equal(c.resources.limits["nvidia.com/gpu"], 1);
    assert.equal(c.volumeMounts[0].mountPath, "/work");
    assert.equal(
      pod.volumes[0].persistentVolumeClaim.claimName,
      pvc.metadata.name,
    );

    const merge = await load("hfss-r50-m2.yaml");
    assert.equal(merge.kind, "Job");
    assert.equal(merge.spec.completionMode, undefined);
    assert.match(merge.spec.template.spec.containers[0].args[0], /hfss merge/);
    assert.equal(
      merge.spec.template.spec.containers[0].env[0].value,
      "--stage /work/runs/r50/stage2",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
