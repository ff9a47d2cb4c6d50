"""Analytics modules: one file each, registered by name; see registry.py."""
