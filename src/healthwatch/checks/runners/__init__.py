"""Check runners: one module per kind (http, tcp, tls, exec, ...), one contract in ``base``."""
