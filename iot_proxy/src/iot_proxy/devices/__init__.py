"""Device backends: printer, drawer, scanner, display, payment terminal."""

from .base import Device
from .display import DisplayDevice
from .drawer import DrawerDevice
from .payment import PaymentTerminalDevice
from .printer import PrinterDevice
from .scanner import ScannerDevice

__all__ = ["Device", "DisplayDevice", "DrawerDevice", "PaymentTerminalDevice", "PrinterDevice",
           "ScannerDevice"]
