"""Imports nothing: since Nautobot 2.3 every module under jobs/ is imported anyway."""
