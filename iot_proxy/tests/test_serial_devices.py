"""Real bytes over real serial lines: socat pty pairs as scanner, printer, device file, display."""

from __future__ import annotations

import threading

import serial
from conftest import base_config, http, receipt, wait_until

from iot_proxy.virtual import LineDisplayEmulator, SerialPrinterEmulator


def test_serial_scans_are_pushed_over_websocket(tmp_path, servers, socat, ws_clients):
    pair = socat("scanner")
    server = servers.start(base_config(tmp_path, scanners=[
        {"name": "front", "port": pair.a, "baudrate": 9600, "suffix": "\r"}]))
    ws = ws_clients(server.url.replace("http", "ws") + "/ws")
    ws.next(lambda m: m["type"] == "hello")
    wait_until(lambda: http("GET", server.url + "/scanners/front")[1]["scanner"]["connected"],
               what="scanner port open")
    with serial.Serial(pair.b, 9600) as device:
        device.write(b"4006381333931\r")
        device.write(b"ABC-")  # a scan split over two reads
        device.flush()
        first = ws.next(lambda m: m["type"] == "scan")
        device.write(b"123\r\n")
        device.flush()
        second = ws.next(lambda m: m["type"] == "scan")
    assert first == {**first, "type": "scan", "scanner": "front", "data": "4006381333931"}
    assert second["data"] == "ABC-123"
    st = http("GET", server.url + "/scanners/front")[1]["scanner"]
    assert st["scans"] == 2 and st["last_scan"] == "ABC-123"


def test_scanner_unplugged_and_plugged_back(tmp_path, servers, socat, ws_clients):
    pair = socat("scanner")
    server = servers.start(base_config(tmp_path, scanners=[
        {"name": "front", "port": pair.a, "reconnect_interval": 0.2}]))
    ws = ws_clients(server.url.replace("http", "ws") + "/ws")

    def connected():
        return http("GET", server.url + "/scanners/front")[1]["scanner"]["connected"]

    wait_until(connected, what="scanner open")
    pair.stop()  # unplugged
    wait_until(lambda: connected() is False, what="scanner reported disconnected")
    assert http("GET", server.url + "/status")[0] == 200
    pair.start()  # plugged back (same link names)
    wait_until(connected, what="scanner reopened")
    with serial.Serial(pair.b, 9600) as device:
        device.write(b"AFTER-REPLUG\r")
        device.flush()
        assert ws.next(lambda m: m["type"] == "scan")["data"] == "AFTER-REPLUG"


def test_serial_printer_prints_receipt_and_kicks_drawer(tmp_path, servers, socat):
    pair = socat("printer")
    emulator = SerialPrinterEmulator(pair.b)
    try:
        server = servers.start(base_config(
            tmp_path, printers=[{"name": "receipt", "transport": "serial", "devfile": pair.a,
                                 "baudrate": 9600, "timeout": 2.0}],
            drawers=[{"name": "drawer", "printer": "receipt", "pin": 5}]))
        status, body, _ = http("POST", server.url + "/printers/receipt/jobs",
                               {"job_id": "ser-1", "receipt": receipt("SER-1"), "wait": 10})
        assert status == 200 and body["status"] == "done", body
        job = emulator.wait_for_jobs(1)[0]
        assert "SER-1" in job.text and "Test Shop" in job.decoded.styled(bold=True)
        assert http("POST", server.url + "/drawers/drawer/open")[0] == 200
        kick = emulator.wait_for_jobs(2)[1]
        assert kick.decoded.find("drawer")[0]["pin"] == 5
    finally:
        emulator.close()


def test_device_file_printer(tmp_path, servers, socat):
    # /dev/usb/lp* is a write-only character device: a pty slave stands in for it.
    pair = socat("lp")
    emulator = SerialPrinterEmulator(pair.b)
    try:
        server = servers.start(base_config(
            tmp_path, printers=[{"name": "lp", "transport": "file", "devfile": pair.a}]))
        status, body, _ = http("POST", server.url + "/printers/lp/jobs",
                               {"receipt": receipt("LP-1", qr="LP-1"), "wait": 10})
        assert status == 200 and body["status"] == "done"
        job = emulator.wait_for_jobs(1)[0]
        assert "LP-1" in job.text
        assert job.decoded.find("qr") == [{"cmd": "qr", "data": "LP-1"}]
        assert job.decoded.names()[-1] == "cut"
    finally:
        emulator.close()


def test_customer_display_total_last_item_thank_you(tmp_path, servers, socat):
    pair = socat("display")
    screen = LineDisplayEmulator(20, 2)
    stop = threading.Event()
    changed = threading.Event()
    device = serial.Serial(pair.b, 9600, timeout=0.05)

    def reader():
        while not stop.is_set():
            data = device.read(256)
            if data:
                screen.feed(data)
                changed.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        server = servers.start(base_config(tmp_path, displays=[
            {"name": "pole", "port": pair.a, "codepage": "CP858"}]))
        euro = {"symbol": "€", "position": "after", "decimal_separator": ","}

        def show(body, expected):
            status, resp, _ = http("POST", server.url + "/displays/pole", body)
            assert status == 200, resp
            assert resp["lines"] == expected
            wait_until(lambda: screen.lines == expected, 5, what=f"screen {expected}")

        show({"kind": "item", "name": "Espresso", "price": "1.80", "total": "7.30",
              "currency": euro},
             ["Espresso      1,80 €", "TOTAL         7,30 €"])
        show({"kind": "total", "total": "7.30", "currency": euro},
             ["TOTAL               ", "              7,30 €"])
        show({"kind": "thank_you"}, ["     Thank you!     ", " " * 20])
        show({"kind": "lines", "lines": ["A very long line that is cut", "x"]},
             ["A very long line tha", "x".ljust(20)])
    finally:
        stop.set()
        t.join(2)
        device.close()
