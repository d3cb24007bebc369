#!/usr/bin/env bash
# Install what the project needs on a fresh Debian machine: the Python environment (.venv) and, with
# --system, what the tests use: Debian packages (CJK font, PostgreSQL 15, Redis and Chromium for the
# end-to-end tier, rsync for the Immich build, the autotools SCWS needs), pgvector built from Debian's
# source package, podman for the container tier (scripts/install_podman.sh), and zhparser + SCWS from
# their pinned sources (scripts/install_zhparser.sh; where no source can be had, the zhparser tier skips
# and says so). Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

system=0
for arg in "$@"; do
  case "$arg" in
    --system) system=1 ;;
    *) echo "usage: $0 [--system]" >&2; exit 2 ;;
  esac
done

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ "$system" = 1 ]; then
  packages=(fonts-wqy-zenhei postgresql-15 postgresql-contrib postgresql-server-dev-15 build-essential
            redis-server chromium ffmpeg rsync git autoconf automake libtool)
  missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "bootstrap: apt-get install ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  scripts/install_pgvector.sh
  # Podman for the container tier (scripts/build_images.sh, the compose stack); that tier skips, saying
  # why, where containers cannot run.
  status=0
  scripts/install_podman.sh || status=$?
  if [ "$status" = 3 ]; then
    echo "bootstrap: WARNING: podman cannot run containers here: the container tier will skip" >&2
  elif [ "$status" != 0 ]; then
    exit "$status"
  fi
  status=0
  scripts/install_zhparser.sh || status=$?
  if [ "$status" = 3 ]; then
    echo "bootstrap: WARNING: zhparser NOT installed (no source archive, no network): the zhparser tier will skip" >&2
  elif [ "$status" != 0 ]; then
    exit "$status"
  fi
fi

# The venv is rebuilt only when pyproject.toml changes.
stamp=.venv/.pyproject.sha256
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "bootstrap: creating .venv (torch is large: this takes a few minutes the first time)"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  echo "$wanted" > "$stamp"
fi
