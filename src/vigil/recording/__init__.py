"""Recording: each camera's own stream remuxed into short segments, encrypted with a key per
tenant, camera and hour, indexed in the store, and served only decoded, masked, face-redacted
and re-encoded (see docs/privacy.md)."""

# The longest clip or export one request may ask for: each is decoded, redacted and encoded
# again before it is served. Here, not in `archive`, so the CLI states it without importing
# the archive's video stack.
MAX_CLIP_MS = 10 * 60_000
