#!/usr/bin/env bash
# The paper-claims studies (issue 15) and the colour study in the cpu profile, one at a time
# (two trainings at once on a 2-core machine run ten times slower), each into
# book/results/<study>-cpu.json. A finished study is skipped; an interrupted one resumes
# where it stopped (finished runs are loaded, not retrained). Start it in the background:
#   nohup bench/run_studies.sh > runs/studies.log 2>&1 &
# Optionally wait for a running process first: bench/run_studies.sh PID
set -u
cd "$(dirname "$0")/.."
export ALEXNET_LAB_DATA="${ALEXNET_LAB_DATA:-$(cd .. && pwd)/shared/data}"
[ -n "${1:-}" ] && while kill -0 "$1" 2>/dev/null; do sleep 10; done
for s in colour ablations relu_vs_tanh lrn_cifar10 normalization ablations_full; do
  [ -f "book/results/$s-cpu.json" ] && continue
  echo "== $s $(date -u +%T)"
  .venv/bin/alexnet-lab experiment "$s" --profile cpu --out "book/results/$s-cpu.json" \
    || echo "== $s failed, exit $?"
done
echo "== done $(date -u +%T)"
