"""The send history: every send from the app and the command line, kept in SQLite, searchable,
sendable again and exportable, with no secret in it (Qt-free: the CLI uses it as it is)."""
