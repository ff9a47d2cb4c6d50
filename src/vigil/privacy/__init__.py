"""Privacy by design: face redaction, and later retention and the audit chain."""
