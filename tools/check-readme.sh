#!/usr/bin/env bash
# Checks that .ci/run runs the README's test command exactly as the README writes it.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=$(sed -n '/<!-- test-command -->/,/<!-- \/test-command -->/p' README.md | grep -v '^<!--' | grep -v '^```' | sed '/^$/d')
[ -n "$cmd" ] || { echo "README has no test command block"; exit 1; }
grep -qxF "$cmd" .ci/run || { echo ".ci/run does not run the README's test command: $cmd"; exit 1; }
echo "README test command found in .ci/run"
