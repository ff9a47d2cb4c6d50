"""Plain-language search over events: captions, text embedding, query parsing, the index.

See docs/search.md. Never offered: "find this person", search by image, face or appearance
matching (`vigil.search.query.RefusedQuery`).
"""
