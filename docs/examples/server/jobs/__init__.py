"""The jobs app: job records, git repositories, load errors and runs, kept
by libjobreg through the storage backend of storage.py."""
