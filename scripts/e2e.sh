#!/usr/bin/env bash
# The end-to-end tier alone: builds the patched Immich v2.4.1 natively, starts PostgreSQL, Redis, the
# sidecar and a stand-in upstream ML, and drives Immich through its API and headless Chromium.
# Screenshots and service logs: test-results/e2e/. Skips (with the reason) without the Immich source.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --system
exec .venv/bin/python -m pytest -v -rs tests/test_e2e.py "$@"
