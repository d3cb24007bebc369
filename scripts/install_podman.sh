#!/usr/bin/env bash
# Podman for the container tier (issue 23): the images of this project are built and the compose stack
# runs with podman on machines where Docker's registries and daemon are not available.
#   - Debian's podman (4.3 on bookworm), runc, the CNI plugins (the compose stack's bridge network) and
#     debootstrap (scripts/standin_bases.sh makes stand-in base images from Debian's packages);
#   - /etc/containers/containers.conf.d/aio-no-ulimits.conf: `default_ulimits = []`. Podman's default
#     asks the runtime to raise RLIMIT_NOFILE/NPROC, which a container inside a container may not do
#     ("setrlimit ... operation not permitted"): with no default ulimits containers inherit the host's;
#     runc as the runtime.
# Then checks that a container runs (`podman run --rootfs` of a static binary: no image needed).
# Idempotent: a second run only checks.
# Exit codes: 0 podman runs containers here, 3 installed but containers cannot run on this machine.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(podman runc containernetworking-plugins debootstrap)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install_podman: apt-get install ${missing[*]}" >&2
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

conf_dir=/etc/containers/containers.conf.d
conf=$conf_dir/aio-no-ulimits.conf
wanted='# scripts/install_podman.sh: containers inherit the host limits (raising them is not permitted here)
[containers]
default_ulimits = []

[engine]
runtime = "runc"'
if [ "$(cat "$conf" 2>/dev/null)" != "$wanted" ]; then
  as_root mkdir -p "$conf_dir"
  printf '%s\n' "$wanted" | as_root tee "$conf" >/dev/null
  echo "install_podman: wrote $conf" >&2
fi

# Can a container run here? A root file system of one static binary (Debian's ldconfig), no image needed.
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
cp /sbin/ldconfig "$rootfs/"
mkdir -p "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/etc"
if ! output=$(as_root podman --runtime runc run --rm --rootfs "$rootfs" /ldconfig --version 2>&1); then
  echo "install_podman: podman cannot run containers on this machine: $output" >&2
  exit 3
fi
