"""The only place with I/O: SQL stores, the in-process gate, payment channels, images."""
