#!/usr/bin/env bash
# The GPU check of the training issue, as one script for a GPU machine that has PyTorch but
# no internet and no copy of the data. Run it from the repository root:
#
#   DATA=.devdata/imagenette-128 OUT=/tmp/out bash bench/device_check.sh
#
# DATA is a small JPEG copy of Imagenette made by bench/device_data.py (the whole train
# split at 128 px, 100 val images per class), carried as one tar.gz of 45 MiB (many small
# files count more towards the machine's 64 MiB limit) and unpacked there:
#
#   tar xzf .devpack/imagenette-128.tgz -C /tmp && DATA=/tmp/imagenette-128 bash bench/device_check.sh
#
# In order, each step bounded in time:
#   1. throughput at 224 px, batch 128: project vs torchvision-reference (bench/README.md);
#   2. the gpu profile, trained in full (its history, s/epoch, peak memory);
#   3. a sweep of cpu-profile recipes, 12 at a time on the GPU, to choose the cpu profile;
#   4. throughput at 224 px, batch 512.
# Results land in $OUT: machine.txt, bench_b128.json, gpu_profile.json, cpu_sweep.json,
# bench_b512.json, runs.tgz (every run's history and log) and device.log.
set -u
DATA=${DATA:-.devdata/imagenette-128}
OUT=${OUT:-/tmp/device-check}
RUNS=${RUNS:-/dev/shm/alexnet-runs}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 CI=1
mkdir -p "$OUT" "$RUNS"
exec > >(tee "$OUT/device.log") 2>&1

{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"
    echo "cpus $(nproc)"
} | tee "$OUT/machine.txt"

step() { echo; echo "== $1 ($(date +%T))"; }

step "1. throughput, 224 px, batch 128"
timeout 120 python3 bench/train_throughput.py --data "$DATA" --size 224 --batch 128 \
    --steps 40 --data-steps 40 --repeats 3 --out "$OUT/bench_b128.json"

step "2. gpu profile"
timeout 150 python3 bench/recipe_sweep.py --base gpu --data "$DATA" --runs "$RUNS/gpu" \
    --parallel 1 --out "$OUT/gpu_profile.json"

step "3. cpu recipe sweep"
timeout 220 python3 bench/recipe_sweep.py --base cpu --data "$DATA" --runs "$RUNS/cpu" \
    --parallel 12 --out "$OUT/cpu_sweep.json" \
    --variant epochs=22,lr=0.01 --variant "" --variant lr=0.01 --variant lr=0.04 \
    --variant dropout=0.25 --variant batch_size=64 --variant batch_size=64,lr=0.01 \
    --variant image_size=96,epochs=32 --variant image_size=96,epochs=32,lr=0.04 \
    --variant image_size=128,epochs=20 --variant image_size=80,epochs=44 \
    --variant epochs=30

step "4. throughput, 224 px, batch 512"
timeout 80 python3 bench/train_throughput.py --data "$DATA" --size 224 --batch 512 \
    --steps 20 --data-steps 20 --repeats 3 --out "$OUT/bench_b512.json"

step "done"
tar czf "$OUT/runs.tgz" -C "$RUNS" $(cd "$RUNS" && find . -name '*.json' -o -name 'log.txt')
