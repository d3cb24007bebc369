"""`immich-sidecar`: serve the sidecar, print its configuration, export cn-clip to ONNX, manage the `aio` schema."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile

from .config import ConfigError, Settings, settings_table


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        stream=sys.stdout,
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s",
    )


def serve(settings: Settings) -> None:
    from gunicorn.app.base import BaseApplication

    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sidecar-metrics-")

    class SidecarServer(BaseApplication):
        def load_config(self) -> None:
            host = f"[{settings.host}]" if ":" in settings.host and not settings.host.startswith("[") else settings.host
            options = {
                "bind": f"{host}:{settings.port}",
                "workers": settings.workers,
                "worker_class": "gthread",
                "threads": settings.request_threads,
                "timeout": settings.worker_timeout,
                "keepalive": settings.keepalive,
                "graceful_timeout": 10,
                "accesslog": None,  # the app logs one line per request with task, model and timing
                "loglevel": settings.log_level,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            # Runs in each worker: every worker has its own models, loaded once.
            from .app import create_app
            from .state import sidecar_of

            app = create_app(settings)
            registry = sidecar_of(app).registry
            registry.preload()
            registry.start_idle_unloader()
            return app

    SidecarServer().run()


def export_onnx(settings: Settings, names: list[str], precisions: list[str]) -> int:
    from .errors import ModelUnavailable
    from .models.clip_export import export_model
    from .models.names import resolve_clip_name

    for name in names:
        info = resolve_clip_name(name, settings.clip_aliases)
        if info is None:
            print(f"immich-sidecar: {name!r} is not a cn-clip model name", file=sys.stderr)
            return 2
        try:
            timings = export_model(info, settings.checkpoint_dir, settings.onnx_dir, precisions, settings.clip_download)
        except ModelUnavailable as error:
            print(f"immich-sidecar: {error}", file=sys.stderr)
            return 1
        steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items())
        print(f"exported {info.name} to {settings.onnx_dir / info.name} ({steps})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="immich-sidecar", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve Immich's ML protocol (gunicorn), settings from the environment")
    commands.add_parser("config", help="print the configuration table (variables, defaults, meaning)")
    export = commands.add_parser(
        "export-onnx", help="export cn-clip towers to ONNX (fp32, int8) into AIO_CLIP_ONNX_DIR, from AIO_CLIP_MODEL_DIR"
    )
    export.add_argument("--model", action="append", help="cn-clip model name (repeatable; default AIO_CLIP_MODEL)")
    export.add_argument(
        "--precision", action="append", choices=["fp32", "int8"], help="precisions to write (repeatable; default both)"
    )
    db = commands.add_parser("db", help="manage the aio schema (Alembic), database from DB_URL or DB_*")
    db.add_argument("action", choices=["upgrade", "downgrade", "status", "check"])
    db.add_argument("revision", nargs="?", help="target revision (upgrade: head; downgrade: base)")
    db.add_argument(
        "--repair", action="store_true", help="check: rebuild the photos whose OCR documents or word lists differ"
    )
    args = parser.parse_args(argv)

    try:
        if args.command == "config":
            print(settings_table())
            return 0
        if args.command == "db":
            from .db import check_ocr, run_db_command

            if args.action == "check":
                return check_ocr(repair=args.repair)
            return run_db_command(args.action, args.revision)
        settings = Settings.from_env()
        _configure_logging(settings.log_level)
        if args.command == "export-onnx":
            return export_onnx(settings, args.model or [settings.clip_model], args.precision or ["fp32", "int8"])
        serve(settings)
        return 0
    except ConfigError as error:
        print(f"immich-sidecar: configuration error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
