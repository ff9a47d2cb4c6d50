"""`vigil bench api`: event pages and counts under 50 concurrent clients over a large stored
set, through the whole API stack (authentication, policy, audit) on a real server; the load
generator runs in separate processes."""
