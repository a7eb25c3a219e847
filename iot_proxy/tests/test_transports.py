"""Transport selection and optional dependencies (usb, serial extras), dummy devices."""

from __future__ import annotations

from conftest import base_config, http, receipt, wait_until
from escpos import printer as ep

from iot_proxy.config import PrinterConfig
from iot_proxy.devices import DisplayDevice, PrinterDevice, ScannerDevice
from iot_proxy.devices.printer import make_transport
from iot_proxy.escpos_decode import decode


def test_each_transport_maps_to_python_escpos():
    usb = make_transport(PrinterConfig("u", "usb", usb_vendor=0x04B8, usb_product=0x0202))
    assert isinstance(usb, ep.Usb) and usb.usb_args == {"idVendor": 0x04B8,
                                                        "idProduct": 0x0202}
    assert isinstance(make_transport(PrinterConfig("n", "network", host="127.0.0.1")),
                      ep.Network)
    assert isinstance(make_transport(PrinterConfig("s", "serial", devfile="/dev/ttyS9")),
                      ep.Serial)
    assert isinstance(make_transport(PrinterConfig("f", "file", devfile="/dev/usb/lp0")),
                      ep.File)
    assert isinstance(make_transport(PrinterConfig("d", "dummy")), ep.Dummy)


def test_optional_dependencies_are_checked():
    # The test extra installs pyserial and the usb extra pyusb.
    assert PrinterDevice.is_usable("usb") and PrinterDevice.is_usable("serial")
    assert ScannerDevice.is_usable("serial") and DisplayDevice.is_usable("serial")
    for cls in (PrinterDevice, ScannerDevice, DisplayDevice):
        assert cls.is_usable("dummy")


def test_missing_usb_printer_makes_jobs_wait_and_service_stays_up(tmp_path, servers):
    server = servers.start(base_config(tmp_path, printers=[
        {"name": "usb", "transport": "usb", "usb_vendor": 0x1234, "usb_product": 0x5678}]))
    status, body, _ = http("POST", server.url + "/printers/usb/jobs",
                           {"job_id": "u1", "receipt": receipt(), "wait": 10})
    assert status == 202 and body["ok"] is True and body["status"] == "waiting"
    assert "unreachable" in body["message"]
    assert http("GET", server.url + "/status")[0] == 200


def test_dummy_printer_captures_the_bytes(tmp_path, servers):
    server = servers.start(base_config(
        tmp_path, printers=[{"name": "dummy", "transport": "dummy"}],
        drawers=[{"name": "drawer", "printer": "dummy"}]))
    status, body, _ = http("POST", server.url + "/printers/dummy/jobs",
                           {"receipt": receipt("D-1"), "wait": 10})
    assert status == 200 and body["status"] == "done"
    assert http("POST", server.url + "/drawers/drawer/open")[0] == 200
    dev = server.proxy.printers["dummy"]
    wait_until(lambda: len(dev.dummy_output) == 2)
    assert "D-1" in decode(dev.dummy_output[0]).text
    assert decode(dev.dummy_output[1]).find("drawer")[0]["pin"] == 2
