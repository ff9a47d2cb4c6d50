"""From sampled frames to events: batching, detection, tracking, modules, event lifecycle."""
