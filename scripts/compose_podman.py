#!/usr/bin/env python3
"""Run docker-compose.yml with podman: a small runner for machines where neither Docker nor a podman-compose
that understands the file can be had (Debian bookworm: podman 4.3, no health-check timers without systemd,
no `podman wait --condition healthy`, no DNS between containers with its CNI backend).

    scripts/compose_podman.py [-f docker-compose.yml] [--env-file .env] [--image SERVICE=IMAGE ...] up|down|ps
    scripts/compose_podman.py [-f ...] address SERVICE     the service's address on the stack's network

It reads the compose file itself and keeps its services, images, environment (`env_file`, `environment`,
`${VAR:-default}` from the shell or the env file), volumes (bind paths relative to the file, named
volumes as `<project>_<name>`), ports, `shm_size`, `restart`, `command`, health checks (the image's, or
`test`) and `depends_on` with its conditions. The services share one network, `<project>_default`: each
gets a fixed address there and every service name resolves to its address through /etc/hosts (what
compose's DNS does). `service_healthy` is waited for by running the container's health check (podman's
timers need systemd). Images are not built here (scripts/build_images.sh builds them under the names
the file gives); `--image SERVICE=IMAGE` replaces one that cannot be pulled (a stand-in).

`up` creates what is missing and starts what is stopped, in dependency order, waiting for each
condition; `down` removes the containers and the network and keeps the volumes; `ps` lists them.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import yaml

SUBNET = "10.89.23"  # <SUBNET>.0/24: service N (in file order) gets <SUBNET>.(10 + N)
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")


def say(message: str) -> None:
    print(f"compose_podman: {message}", file=sys.stderr, flush=True)


def podman(*args: str, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], check=check, text=True, capture_output=capture)


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip().strip("'\"")
    return values


def interpolate(value, variables: dict[str, str]):
    if isinstance(value, str):

        def one(match: re.Match) -> str:
            name, operator, default = match.groups()
            current = variables.get(name)
            if operator == ":-" and not current:
                return default
            if operator == "-" and current is None:
                return default
            return current or ""

        return INTERPOLATION.sub(one, value)
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    return value


class Project:
    def __init__(self, compose_file: Path, env_file: Path, images: dict[str, str]) -> None:
        self.dir = compose_file.resolve().parent
        self.variables = {**read_env_file(env_file), **os.environ}
        spec = interpolate(yaml.safe_load(compose_file.read_text()), self.variables)
        self.name = spec.get("name") or self.dir.name
        self.services: dict[str, dict] = spec["services"]
        self.volumes = spec.get("volumes") or {}
        self.network = f"{self.name}_default"
        for service, image in images.items():
            if service not in self.services:
                raise SystemExit(f"compose_podman: --image names no service: {service}")
            self.services[service]["image"] = image
        self.addresses = {name: f"{SUBNET}.{10 + i}" for i, name in enumerate(self.services)}

    def container(self, service: str) -> str:
        return self.services[service].get("container_name") or f"{self.name}-{service}-1"

    def depends(self, service: str) -> dict[str, str]:
        depends = self.services[service].get("depends_on") or {}
        if isinstance(depends, list):
            return {name: "service_started" for name in depends}
        return {name: (spec or {}).get("condition", "service_started") for name, spec in depends.items()}

    def order(self) -> list[str]:
        done: list[str] = []

        def visit(service: str, path: tuple[str, ...]) -> None:
            if service in path:
                raise SystemExit(f"compose_podman: dependency cycle through {service}")
            if service not in done:
                for dependency in self.depends(service):
                    visit(dependency, (*path, service))
                done.append(service)

        for service in self.services:
            visit(service, ())
        return done

    def state(self, service: str) -> str | None:
        result = podman(
            "container", "inspect", "--format", "{{.State.Status}}", self.container(service), check=False, capture=True
        )
        return result.stdout.strip() if result.returncode == 0 else None

    def run_arguments(self, service: str) -> list[str]:
        spec = self.services[service]
        args = [
            "run",
            "--detach",
            "--name",
            self.container(service),
            "--network",
            self.network,
            "--ip",
            self.addresses[service],
            "--hostname",
            service,
        ]
        for other, address in self.addresses.items():
            for host in {other, self.container(other)}:
                args += ["--add-host", f"{host}:{address}"]
        for env_file in spec.get("env_file") or []:
            args += ["--env-file", str(self.dir / env_file)]
        environment = spec.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        for key, value in environment.items():
            args += ["--env", f"{key}={'' if value is None else value}"]
        for volume in spec.get("volumes") or []:
            source, target, *mode = volume.split(":")
            if source.startswith((".", "/", "~")):
                path = (self.dir / os.path.expanduser(source)).resolve()
                path.mkdir(parents=True, exist_ok=True) if not path.exists() else None
                source = str(path)
            else:
                if source not in self.volumes:
                    raise SystemExit(f"compose_podman: {service} uses undeclared volume {source}")
                source = f"{self.name}_{source}"
                if podman("volume", "exists", source, check=False).returncode != 0:
                    podman("volume", "create", source, capture=True)
            args += ["--volume", ":".join([source, target, *mode])]
        for port in spec.get("ports") or []:
            args += ["--publish", str(port)]
        if spec.get("shm_size"):
            args += ["--shm-size", str(spec["shm_size"])]
        restart = str(spec.get("restart", "no"))
        if restart != "no":
            args += ["--restart", restart]
        health = spec.get("healthcheck") or {}
        if health.get("disable") is True:
            args += ["--no-healthcheck"]
        elif "test" in health:
            test = health["test"]
            if isinstance(test, list):
                test = shlex.join(test[1:]) if test[0] == "CMD" else test[1]
            args += ["--health-cmd", test]
        args.append(spec["image"])
        command = spec.get("command")
        if command:
            args += command if isinstance(command, list) else shlex.split(command)
        return args

    def wait_healthy(self, service: str, timeout: float) -> None:
        name, deadline = self.container(service), time.monotonic() + timeout
        say(f"waiting for {name} to be healthy")
        while True:
            if self.state(service) != "running":
                raise SystemExit(f"compose_podman: {name} is {self.state(service)}; see `podman logs {name}`")
            if podman("healthcheck", "run", name, check=False, capture=True).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"compose_podman: {name} not healthy after {timeout:.0f} s")
            time.sleep(3)

    def up(self, timeout: float) -> None:
        if podman("network", "exists", self.network, check=False).returncode != 0:
            podman("network", "create", "--subnet", f"{SUBNET}.0/24", self.network, capture=True)
        for service in self.order():
            for dependency, condition in self.depends(service).items():
                if condition == "service_healthy":
                    self.wait_healthy(dependency, timeout)
                elif condition == "service_completed_successfully":
                    code = podman("wait", self.container(dependency), capture=True).stdout.strip()
                    if code != "0":
                        raise SystemExit(f"compose_podman: {self.container(dependency)} exited with {code}")
            state = self.state(service)
            if state == "running":
                continue
            if state is None:
                image = self.services[service]["image"]
                if podman("image", "exists", image, check=False).returncode != 0:
                    raise SystemExit(f"compose_podman: no image {image} for {service} (scripts/build_images.sh)")
                podman(*self.run_arguments(service), capture=True)
            else:
                podman("start", self.container(service), capture=True)
            say(f"started {self.container(service)} ({service}, {self.addresses[service]})")

    def down(self) -> None:
        for service in reversed(self.order()):
            if self.state(service) is not None:
                podman("rm", "--force", "--time", "20", self.container(service), capture=True)
                say(f"removed {self.container(service)}")
        podman("network", "rm", "--force", self.network, check=False, capture=True)

    def address(self, service: str) -> None:
        print(self.address_of(service))

    def address_of(self, service: str) -> str:
        if service not in self.services:
            raise SystemExit(f"compose_podman: no service {service}")
        return self.addresses[service]

    def ps(self) -> None:
        for service in self.order():
            print(
                f"{service:28} {self.container(service):28} {self.addresses[service]:14} {self.state(service) or '-'}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-f", "--file", type=Path, default=Path("docker-compose.yml"))
    parser.add_argument("--env-file", type=Path, help="default: .env beside the compose file")
    parser.add_argument("--image", action="append", default=[], metavar="SERVICE=IMAGE")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for a health condition")
    parser.add_argument("command", choices=["up", "down", "ps", "address"])
    parser.add_argument("service", nargs="?", help="address: the service whose address to print")
    options = parser.parse_args()
    images = dict(item.split("=", 1) for item in options.image)
    project = Project(options.file, options.env_file or options.file.resolve().parent / ".env", images)
    if options.command == "up":
        project.up(options.timeout)
    elif options.command == "address":
        project.address(options.service)
    else:
        getattr(project, options.command)()


if __name__ == "__main__":
    main()
