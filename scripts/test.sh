#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need, then runs every tier.
# Tiers whose prerequisites are missing (zhparser, the Immich source) skip with the reason printed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --system
exec .venv/bin/python -m pytest "$@"
