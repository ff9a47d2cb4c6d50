"""Recording: each camera's own stream remuxed into short segments, encrypted with a key per
tenant, camera and hour, indexed in the store, and served only decoded, masked, face-redacted
and re-encoded (see docs/privacy.md)."""
