"""Device backends: printer, drawer, scanner, display."""

from .base import Device
from .display import DisplayDevice
from .drawer import DrawerDevice
from .printer import PrinterDevice
from .scanner import ScannerDevice

__all__ = ["Device", "DisplayDevice", "DrawerDevice", "PrinterDevice", "ScannerDevice"]
