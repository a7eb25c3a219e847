"""Exceptions shared by the proxy modules."""


class ValidationError(ValueError):
    """A request or config value is malformed; the message says which and why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConfigError(ValueError):
    """The configuration file is invalid."""


class DeviceUnavailable(RuntimeError):
    """A device cannot be reached right now (unplugged, powered off, no paper...)."""
