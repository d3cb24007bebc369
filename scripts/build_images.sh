#!/usr/bin/env bash
# Build this project's four images with podman, from the repository's own Dockerfiles, under the names
# docker-compose.yml gives them, on stand-in base images (scripts/standin_bases.sh) because upstream's
# pinned bases cannot be pulled on this project's machines. The source archives come from
# AIO_UPSTREAM_ARCHIVES, copied into the build context's upstream-archives/ folder (git-ignored), where
# Dockerfile.postgres and Dockerfile.immich* look for them.
#
#   scripts/build_images.sh [sidecar|postgres|immich|immich-v2.4.1 ...]    (default: all four)
#
# Prints one line per image: name, build seconds, size. Podman's layer cache makes a rebuild with
# unchanged inputs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

standin=localhost/aio-standin
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(sidecar postgres immich immich-v2.4.1)
bases=()
for target in "${targets[@]}"; do
  case "$target" in
    sidecar) bases+=(python) ;;
    postgres) bases+=(postgres) ;;
    immich|immich-v2.4.1) bases+=(git immich mise) ;;
    *) echo "usage: $0 [sidecar|postgres|immich|immich-v2.4.1 ...]" >&2; exit 2 ;;
  esac
done
# shellcheck disable=SC2046
scripts/standin_bases.sh $(printf '%s\n' "${bases[@]}" | sort -u)

if [ -n "${AIO_UPSTREAM_ARCHIVES:-}" ]; then
  mkdir -p upstream-archives
  for archive in "$AIO_UPSTREAM_ARCHIVES"/*.tar.gz; do
    cmp -s "$archive" "upstream-archives/$(basename "$archive")" || cp "$archive" upstream-archives/
  done
fi

# The Python stand-in's pip reads this machine's wheel store (torch's CPU index is unreachable here).
wheel_store=()
for dir in /opt/wheels /opt/pypi /opt/pypi-more; do
  [ -d "$dir" ] && wheel_store+=(--volume "$dir:$dir:ro")
done
immich_bases=(--build-arg "SOURCE_IMAGE=$standin-git:bookworm"
              --build-arg "BASE_SERVER_DEV_IMAGE=$standin-base-server-dev:bookworm"
              --build-arg "BASE_SERVER_PROD_IMAGE=$standin-base-server-prod:bookworm"
              --build-arg "MISE_IMAGE=$standin-mise:bookworm")

# RUN steps get this machine's open-file limit: with chroot isolation podman 4.3 gives them 1024, too few
# for Immich's web build (vite: "EMFILE: too many open files").
nofile=$(ulimit -Hn)
[ "$nofile" != unlimited ] || nofile=1048576

build() {
  local name=$1 started
  shift
  started=$(date +%s)
  # --format docker: OCI images have no HEALTHCHECK, which the compose file relies on.
  nice -n 19 ionice -c3 podman build --isolation chroot --force-rm --format docker --ulimit "nofile=$nofile:$nofile" \
    --tag "$name" "$@" .
  printf 'build_images: %s built in %d s, %s bytes\n' "$name" "$(( $(date +%s) - started ))" \
    "$(podman image inspect --format '{{.Size}}' "$name")" >&2
}

for target in "${targets[@]}"; do
  case "$target" in
    sidecar)
      build immich-aio-sidecar:cpu -f Dockerfile.sidecar "${wheel_store[@]}" \
        --build-arg "PYTHON_IMAGE=$standin-python:3.11-bookworm" ;;
    postgres)
      build immich-aio-postgres:14-vectorchord0.4.3-pgvectors0.2.0-zhparser -f Dockerfile.postgres \
        --build-arg "IMMICH_POSTGRES_IMAGE=$standin-postgres:15-pgvector" ;;
    immich)
      build immich-aio-server:v3.1.0 -f Dockerfile.immich "${immich_bases[@]}" ;;
    immich-v2.4.1)
      build immich-aio-server:v2.4.1 -f Dockerfile.immich-v2.4.1 "${immich_bases[@]}" ;;
  esac
done
