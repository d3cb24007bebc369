"""HTTP blueprints: Immich's ML protocol, MT Photos' API, operations (metrics)."""
