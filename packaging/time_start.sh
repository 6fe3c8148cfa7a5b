#!/usr/bin/env bash
# Start-up time of the standalone app against the same wheel in a virtual environment, as
# reported in docs/PERFORMANCE.md. Each run is a fresh process; prints the first run's wall
# time (the nearest to a cold start this machine allows) and the medians of the next RUNS.
#   bash packaging/time_start.sh APP_FOLDER VENV_FOLDER [RUNS]
set -euo pipefail
APP=$1 VENV=$2 RUNS=${3:-5}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export QT_QPA_PLATFORM=offscreen FUNDTRACKER_DATA_DIR=$WORK/data
"$APP/fundtracker-cli" --database "$WORK/demo.sqlite3" demo >/dev/null
"$APP/fundtracker-cli" --database "$WORK/demo.sqlite3" backup >/dev/null  # today's backup taken
# Wall-clock seconds and CPU seconds (user + system) of one run: on a busy machine the CPU
# time is the steadier figure.
time_of() {
  local TIMEFORMAT='%R %U %S' t
  t=$( { time "$@" >/dev/null 2>&1; } 2>&1 )
  read -r wall user sys <<<"$t"
  echo "$wall $(echo "$user + $sys" | bc)"
}
median() { sort -n | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
measure() {  # label, command...
  local label=$1; shift
  local first; first=$(time_of "$@")
  local walls cpus
  walls=$(for _ in $(seq "$RUNS"); do time_of "$@"; done)
  cpus=$(echo "$walls" | awk '{print $2}' | median)
  walls=$(echo "$walls" | awk '{print $1}' | median)
  printf '%-50s first %5ss  median wall %5ss  median cpu %5ss\n' "$label" "${first%% *}" \
    "$walls" "$cpus"
}
for where in app venv; do
  if [ "$where" = app ]; then BIN=$APP; else BIN=$VENV/bin; fi
  measure "$where: fundtracker-cli --version" "$BIN/fundtracker-cli" --version
  measure "$where: fundtracker-cli grant list (open database)" \
    "$BIN/fundtracker-cli" --database "$WORK/demo.sqlite3" grant list
  measure "$where: fundtracker --version (window modules)" "$BIN/fundtracker" --version
  measure "$where: fundtracker --screenshot (window, 8 pages)" \
    "$BIN/fundtracker" --database "$WORK/demo.sqlite3" --screenshot "$WORK/shots-$where"
done
