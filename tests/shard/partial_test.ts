import assert from "node:assert/strict";
import { join } from "node:path";
import {
  kPartialFile,
  readShardSet,
  shardDir,
  writePartial,
} from "../../src/shard/partial.ts";
import { partitionClasses } from "../../src/shard/partition.ts";
import { UserError } from "../../src/errors.ts";

const kConfig = { seed: 42, candidates: 12, classes: [3, 5, 7, 9, 11] };

/** Write shards 1..n of 5 classes; `edit` may change one shard's fields. */
async function writeShards(
  root: string,
  n: number,
  edit?: (i: number, config: Record<string, unknown>) => void,
): Promise<void> {
  const ranges = partitionClasses([1, 1, 1, 1, 1], n);
  for (let i = 1; i <= n; i++) {
    const config: Record<string, unknown> = { ...kConfig };
    edit?.(i, config);
    const r = ranges[i - 1]!;
    await writePartial(shardDir(root, { index: i, count: n }), {
      kind: "eval",
      shard: { index: i, count: n },
      classes: r,
      config,
      data: { num_classes: 5 },
      stats: { seconds: i },
    }, { "values.txt": `shard ${i}: ${r.first}-${r.end}\n` });
  }
}

async function mergeError(root: string): Promise<string> {
  try {
    await readShardSet(root, { kind: "eval" });
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    assert.ok(!e.message.includes("\n"), "one line");
    return e.message;
  }
  throw new Error("expected readShardSet() to refuse");
}

Deno.test("readShardSet() loads complete shards in order with their files", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeShards(root, 3);
    const shards = await readShardSet(root, {
      kind: "eval",
      numClasses: (p) => p.data.num_classes as number,
    });
    assert.deepEqual(shards.map((s) => s.partial.shard.index), [1, 2, 3]);
    assert.deepEqual(shards.map((s) => s.partial.classes), [
      { first: 0, end: 2 },
      { first: 2, end: 3 },
      { first: 3, end: 5 },
    ]);
    assert.equal(
      new TextDecoder().decode(shards[1]!.files["values.txt"]),
      "shard 2: 2-3\n",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("readShardSet() names a missing, unfinished, corrupt, duplicate or mismatched shard", async () => {
  const root = await Deno.makeTempDir();
  const s = (i: number) => shardDir(root, { index: i, count: 3 });
  try {
    await writeShards(root, 3);
    await Deno.rename(s(2), join(root, "elsewhere"));
    assert.match(await mergeError(root), /shard 2 of 3 is missing/);

    await Deno.mkdir(s(2));
    assert.match(await mergeError(root), /shard 2 of 3 is not finished/);
    await Deno.remove(s(2), { recursive: true });
    await Deno.rename(join(root, "elsewhere"), s(2));

    await Deno.writeTextFile(join(s(3), "values.txt"), "tampered\n");
    assert.match(
      await mergeError(root),
      /shard 3 of 3 is corrupt: values\.txt does not match its checksum/,
    );
    await writeShards(root, 3);

    const p = JSON.parse(await Deno.readTextFile(join(s(1), kPartialFile)));
    p.stats.seconds = 99;
    await Deno.writeTextFile(join(s(1), kPartialFile), JSON.stringify(p));
    assert.match(await mergeError(root), /shard 1 of 3 is corrupt .*checksum/);
    await Deno.writeTextFile(join(s(1), kPartialFile), "{ torn");
    assert.match(await mergeError(root), /shard 1 of 3 is corrupt .*JSON/);
    await writeShards(root, 3);

    // A folder copied over another shard's name.
    await Deno.remove(s(3), { recursive: true });
    await Deno.mkdir(s(3));
    for (const f of ["values.txt", kPartialFile]) {
      await Deno.copyFile(join(s(2), f), join(s(3), f));
    }
    assert.match(
      await mergeError(root),
      /shard-3-of-3\/ holds shard 2 of 3, a duplicate/,
    );
    await writeShards(root, 3);

    await writeShards(root, 3, (i, c) => {
      if (i === 3) c.seed = 7;
    });
    assert.match(
      await mergeError(root),
      /shard 3 of 3 has another configuration than shard 1 \(seed: 7, shard 1: 42\)/,
    );
    await writeShards(root, 3);

    await writeShards(root, 2);
    assert.match(await mergeError(root), /it holds shards of 2 and of 3/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
