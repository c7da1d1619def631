#!/usr/bin/env bash
# Run a sharded HFSS search on Kubernetes, stage after stage: for each stage
# an Indexed Job of SHARDS pods (shards-job.yaml), then, once it completes, a
# merge Job (merge-job.yaml); the next stage starts from the merged stage.
# Optionally the evaluation of the last stage, sharded the same way.
#
#   kubectl apply -f deploy/k8s/pvc.yaml      # once; copy model and images in
#   IMAGE=registry.example/hfss:0.1.0 SHARDS=16 RUN=r50 \
#   MODEL=/work/models/resnet50.onnx DATA=/work/imagenet/train \
#     deploy/k8s/run.sh --split 0.05
#
# Settings: IMAGE (built from deploy/Dockerfile), SHARDS, RUN (name of the
# run; output in /work/runs/$RUN), MODEL and DATA (paths inside the volume),
# STAGES (default "1 2 3 4 5 6"), EVAL_ID (optional), KUBECTL (default
# kubectl). Arguments: extra `hfss search` flags. Rerunning the script after
# a failure skips the Jobs that completed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${IMAGE:?set IMAGE to an image built from deploy/Dockerfile}"
: "${SHARDS:?set SHARDS to the number of shards per stage}"
: "${RUN:?set RUN to a short name for the run (lowercase, digits, -)}"
: "${MODEL:?set MODEL (a path inside the volume, e.g. /work/models/m.onnx)}"
: "${DATA:?set DATA (a path inside the volume)}"
STAGES=${STAGES:-"1 2 3 4 5 6"}
KUBECTL=${KUBECTL:-kubectl}
out="/work/runs/$RUN"
export IMAGE SHARDS

# Conditions of a Job that are true ("Complete", "Failed", ...), or nothing.
job_state() {
  $KUBECTL get job "$1" -o \
    jsonpath='{range .status.conditions[?(@.status=="True")]}{.type} {end}' \
    2>/dev/null || true
}

# Apply a template with JOB_NAME and ARGS set, unless that Job already
# completed; wait until it completes.
run_job() {
  local template=$1 name=$2 args=$3
  if [[ " $(job_state "$name") " == *" Complete "* ]]; then
    echo "$name: already complete"
    return 0
  fi
  JOB_NAME=$name ARGS=$args envsubst '${JOB_NAME} ${SHARDS} ${IMAGE} ${ARGS}' \
    <"$here/$template" | $KUBECTL apply -f -
  while :; do
    case " $(job_state "$name") " in
      *" Complete "*) echo "$name: complete"; return 0 ;;
      *" Failed "*) echo "$name: failed (kubectl logs job/$name)" >&2; return 1 ;;
    esac
    sleep 30
  done
}

for stage in $STAGES; do
  run_job shards-job.yaml "hfss-$RUN-s$stage" \
    "search --model $MODEL --data $DATA --out $out --stage $stage $*"
  run_job merge-job.yaml "hfss-$RUN-m$stage" "--stage $out/stage$stage"
done
if [[ -n ${EVAL_ID:-} ]]; then
  last=${STAGES##* }
  run_job shards-job.yaml "hfss-$RUN-eval" \
    "eval --model $MODEL --dfm $out/stage$last --id $EVAL_ID --out $out/eval"
  run_job merge-job.yaml "hfss-$RUN-eval-merge" "--eval $out/eval"
fi
