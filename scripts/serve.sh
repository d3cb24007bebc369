#!/usr/bin/env bash
# Run the sidecar (the main job): sets up .venv if needed, then `immich-sidecar serve` on port 3003.
# Configuration comes from the environment: see docs/configuration.md or `.venv/bin/immich-sidecar config`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/immich-sidecar serve
