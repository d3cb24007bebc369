#!/usr/bin/env bash
# The end-to-end tier alone: builds the patched Immich v2.4.1 and v3.1.0 natively, starts PostgreSQL,
# Redis, the sidecar and a stand-in upstream ML, drives each Immich through its API and headless Chromium,
# then upgrades a v2.4.1 library to v3.1.0. Screenshots and service logs: test-results/e2e/. Skips (with
# the reason) without the Immich sources.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --system
exec .venv/bin/python -m pytest -v -rs tests/test_e2e.py tests/test_upgrade.py "$@"
