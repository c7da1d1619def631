#!/usr/bin/env bash
# Submit a sharded HFSS search (and optionally its evaluation) to Slurm.
#
# For every stage: one array job with one task per shard (`hfss search
# --stage k --shard i/n`), then a merge job (`hfss merge --stage`) that waits
# for the whole array (afterok); the next stage's array waits for that merge.
# Everything is queued at once and Slurm's dependencies are the only
# coordination. A task that is preempted or requeued reruns the same command
# and resumes from its checkpoint.
#
#   MODEL=/data/resnet50.onnx DATA=/data/imagenet/train OUT=/scratch/hfss/r50 \
#   SHARDS=16 deploy/slurm/submit.sh --classes 0-999 --split 0.05
#
# Settings (environment):
#   MODEL, DATA, OUT   model, search images, run folder (absolute paths on a
#                      file system every node mounts)
#   SHARDS             shards per stage (at most the number of classes)
#   STAGES             stages to run, default "1 2 3 4 5 6" (224x224)
#   EVAL_ID            optional: evaluate the last stage's DFMs on these
#                      images, sharded over classes, into $OUT/eval
#   HFSS_HOME          hfss checkout (default: the one holding this script)
#   SBATCH_FLAGS       extra sbatch flags, e.g. "--partition=gpu --account=x"
# Arguments: extra `hfss search` flags (the same for every stage and shard).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${MODEL:?set MODEL to the .onnx model}"
: "${DATA:?set DATA to the search images}"
: "${OUT:?set OUT to the run folder}"
: "${SHARDS:?set SHARDS to the number of shards per stage}"
STAGES=${STAGES:-"1 2 3 4 5 6"}
HFSS_HOME=${HFSS_HOME:-$(cd "$here/../.." && pwd)}
export MODEL DATA OUT SHARDS HFSS_HOME
read -r -a extra_sbatch <<<"${SBATCH_FLAGS:-}"
mkdir -p "$OUT/logs"

# sbatch --parsable prints "jobid" or "jobid;cluster".
submit() { sbatch --parsable "${extra_sbatch[@]}" "$@" | cut -d';' -f1; }

after=()
for stage in $STAGES; do
  shards=$(submit "${after[@]}" --array="1-$SHARDS" \
    --job-name="hfss-s$stage" --output="$OUT/logs/stage$stage-shard%a.log" \
    "$here/shard.sbatch" search --model "$MODEL" --data "$DATA" \
    --out "$OUT" --stage "$stage" "$@")
  merge=$(submit --dependency="afterok:$shards" --job-name="hfss-m$stage" \
    --output="$OUT/logs/stage$stage-merge.log" \
    "$here/merge.sbatch" --stage "$OUT/stage$stage")
  echo "stage $stage: shards $shards (array 1-$SHARDS), merge $merge"
  after=(--dependency="afterok:$merge")
done

if [[ -n ${EVAL_ID:-} ]]; then
  last=${STAGES##* }
  shards=$(submit "${after[@]}" --array="1-$SHARDS" --job-name="hfss-eval" \
    --output="$OUT/logs/eval-shard%a.log" \
    "$here/shard.sbatch" eval --model "$MODEL" --dfm "$OUT/stage$last" \
    --id "$EVAL_ID" --out "$OUT/eval")
  merge=$(submit --dependency="afterok:$shards" --job-name="hfss-eval-merge" \
    --output="$OUT/logs/eval-merge.log" "$here/merge.sbatch" --eval "$OUT/eval")
  echo "eval: shards $shards (array 1-$SHARDS), merge $merge"
fi
