"""The error type for problems a user can fix (a bad file, folder or setting)."""


class PruneSegError(Exception):
    """Its message alone, naming the file or setting at fault, is what the user sees."""
