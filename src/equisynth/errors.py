"""Errors that the command line shows to the user as one line, without a traceback."""


class EquisynthError(Exception):
    """A failure the user can fix: the message names what failed, the value, and what to do."""


class InputDataError(EquisynthError):
    """Input files or tables that cannot be used as they are."""


class ConfigError(EquisynthError):
    """An invalid configuration key, value or rebalancing spec."""


class NotFoundError(EquisynthError):
    """A run, generation, table or release that does not exist."""
