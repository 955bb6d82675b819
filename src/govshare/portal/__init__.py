"""The portal: base layout, static assets, shared page helpers."""
