#!/usr/bin/env bash
# The compose tier (issue 23): the deployment users run, from docker-compose.yml itself, with podman.
#   1. the images, built from the repository's Dockerfiles on stand-in bases (scripts/build_images.sh;
#      cached by podman's layers, seconds when nothing changed);
#   2. a copy of docker-compose.yml (unchanged) in .test-artifacts/compose with an .env made from
#      .env.example, started by scripts/compose_podman.py; stand-ins (scripts/standin_bases.sh) for the
#      two images that cannot be pulled here: immich-machine-learning (faces only) and valkey (Redis);
#      the database is the PostgreSQL 15 + pgvector stand-in, so DB_VECTOR_EXTENSION=pgvector;
#   3. a random-weights cn-clip checkpoint (tests/support/checkpoints.py, built inside the sidecar
#      image) put where the README says: /cache/cn-clip in the aio-model-cache volume;
#   4. scripts/compose_check.py: sign-up, uploads, jobs, `ocr:` in both scripts, cn-clip smart search,
#      faces through the sidecar's proxy; then the stack is removed and started again on the same
#      volumes, and the same searches find the same photos; then it is removed (volumes kept until the
#      next run).
# Prints the time from `up` to the first search. Needs podman that runs containers
# (scripts/install_podman.sh) and AIO_UPSTREAM_ARCHIVES (the Immich source for the build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python=${AIO_PYTHON:-$root/.venv/bin/python}
work=$root/.test-artifacts/compose
standin=localhost/aio-standin
say() { echo "compose_stack_check: $*" >&2; }

# AIO_COMPOSE_BUILD=0: run the images already built (scripts/build_images.sh) as they are.
if [ "${AIO_COMPOSE_BUILD:-1}" != 0 ]; then
  scripts/build_images.sh sidecar postgres immich
fi
scripts/standin_bases.sh ml redis

compose() {
  "$python" scripts/compose_podman.py -f "$work/docker-compose.yml" \
    --image "immich-machine-learning=$standin-immich-machine-learning:faces" \
    --image "redis=$standin-redis:bookworm" "$@"
}
wait_for_migrations() {
  local code
  code=$(podman wait immich_aio_migrate)
  [ "$code" = 0 ] || { podman logs immich_aio_migrate >&2; say "aio-migrate exited with $code"; exit 1; }
}

# A fresh stack: no containers, network or volumes of an earlier run.
if [ -f "$work/docker-compose.yml" ]; then compose down; fi
for volume in immich_model-cache immich_aio-model-cache; do
  podman volume rm --force "$volume" >/dev/null 2>&1 || true
done
rm -rf "$work"
mkdir -p "$work"
cp docker-compose.yml "$work/"
overrides=(UPLOAD_LOCATION="$work/library" DB_DATA_LOCATION="$work/postgres" DB_VECTOR_EXTENSION=pgvector
           AIO_CLIP_DOWNLOAD=false)
{
  grep -v -E "^($(printf '%s|' "${overrides[@]%%=*}" | sed 's/|$//'))=" .env.example
  echo "# compose_stack_check.sh: this machine's stand-ins and folders"
  printf '%s\n' "${overrides[@]}"
} >"$work/.env"

# The checkpoint, written by the sidecar image's own Python into the volume the stack mounts at /cache.
podman volume create immich_aio-model-cache >/dev/null
podman run --rm --user root -v immich_aio-model-cache:/cache -v "$root/tests:/app/tests:ro" \
  immich-aio-sidecar:cpu bash -c 'python -c "
from pathlib import Path
from tests.support.checkpoints import build_random_checkpoint
print(build_random_checkpoint(\"cn-clip-ViT-B-16\", Path(\"/cache/cn-clip\")))" && chown -R sidecar /cache'

started=$(date +%s)
compose up
wait_for_migrations
server=http://$(compose address immich-server):2283
ml=http://$(compose address immich-machine-learning):3003
"$python" scripts/compose_check.py upload "$server" "$ml"
say "start to search: $(( $(date +%s) - started )) s (up, Immich's and aio's migrations, sign-up, uploads, jobs, searches)"

say "restart: down, up on the same volumes"
compose down
started=$(date +%s)
compose up
wait_for_migrations
"$python" scripts/compose_check.py search "$server"
say "after the restart the same searches found the same photos ($(( $(date +%s) - started )) s)"
compose down
