"""Shared by every stage: formats, text, the one vocabulary, parsing, legacy encodings,
privacy, schemas, cache, parallel workers, stops, exports, administrative units."""
