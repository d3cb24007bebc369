"""immich-all-in-one sidecar: Immich's machine-learning protocol with Chinese CLIP and RapidOCR."""

__version__ = "0.1.0"
