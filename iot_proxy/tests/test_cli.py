"""The command line: serve (and survive SIGKILL), devices, test-print, virtual-printer, config."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import http, receipt, wait_until

from iot_proxy.cli import main
from iot_proxy.config import load_config
from iot_proxy.errors import ConfigError
from iot_proxy.virtual import VirtualPrinter

EXAMPLE = Path(__file__).resolve().parents[1] / "packaging" / "iot-proxy.example.toml"
SCRIPT = str(Path(sys.executable).with_name("iot-proxy"))


class Proc:
    """A subprocess whose stdout lines can be awaited."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([SCRIPT, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            self.lines.put(line)

    def expect(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; saw {seen}") from None
            seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            # Generous: on a loaded machine a clean exit can take seconds
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)


@pytest.fixture
def procs():
    started: list[Proc] = []

    def start(*args: str) -> Proc:
        p = Proc(*args)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop(signal.SIGKILL)


def write_config(tmp_path: Path, printer_port: int, interrupted: str = "copy") -> Path:
    text = EXAMPLE.read_text()
    text = text.replace('interrupted = "copy"', f'interrupted = "{interrupted}"')
    text = text.replace("port = 8070", "port = 0").replace("port = 9100",
                                                           f"port = {printer_port}")
    text = text.replace('# data_dir = "/var/lib/iot-proxy"', f'data_dir = "{tmp_path / "data"}"')
    text = text.replace("retry_initial = 1.0", "retry_initial = 0.1").replace(
        "retry_max = 30.0", "retry_max = 0.3")
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_example_config_is_valid_and_safe():
    cfg = load_config(EXAMPLE)
    assert cfg.server.host == "127.0.0.1" and cfg.server.port == 8070
    assert cfg.server.allowed_origins and "*" not in cfg.server.allowed_origins
    assert [p.name for p in cfg.printers] == ["receipt"]
    assert cfg.drawers[0].printer == "receipt"
    assert [(t.name, t.transport) for t in cfg.payment_terminals] == [("card", "virtual")]


@pytest.mark.parametrize("text, reason", [
    ('[server]\nallowed_origins = ["*"]\n', "no wildcard"),
    ('[server]\nallowed_origins = ["https://pos.example.com/path"]\n', "no wildcard, no path"),
    ('[server]\nhost = "*"\n', "host must be an address"),
    ('[server]\ncolour = 1\n', "unknown key"),
    ('[[printers]]\nname = "p"\ntransport = "network"\n', "needs host"),
    ('[[printers]]\nname = "p"\ntransport = "file"\ndevfile = "/dev/usb/lp0"\nstatus = true\n',
     "device file"),
    ('[[drawers]]\nname = "d"\nprinter = "missing"\n', "not configured"),
    ('[[printers]]\nname = "p"\ntransport = "dummy"\n[[drawers]]\nname = "d"\nprinter = "p"\n'
     'pin = 3\n', "pin must be 2 or 5"),
])
def test_bad_config_is_refused_with_reason(tmp_path, text, reason):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(reason)):
        load_config(path)


def test_serve_prints_receipt_opens_drawer_and_keeps_jobs_across_kill(tmp_path, procs):
    vp = VirtualPrinter().start()
    try:
        config = write_config(tmp_path, vp.port)
        serve = procs("serve", "--config", str(config))
        url = serve.expect(r"listening on (http://127\.0\.0\.1:\d+)").group(1)
        status, body, _ = http("POST", url + "/printers/receipt/jobs",
                               {"job_id": "cli-1", "receipt": receipt("CLI-1"), "wait": 10})
        assert status == 200 and body["status"] == "done", body
        assert http("POST", url + "/drawers/drawer/open")[1]["ok"] is True
        jobs = vp.wait_for_jobs(2)
        assert "CLI-1" in jobs[0].text and jobs[1].decoded.find("drawer")[0]["pin"] == 2
        # Printer off, a job accepted, then the proxy is killed without warning.
        vp.stop()
        status, body, _ = http("POST", url + "/printers/receipt/jobs",
                               {"job_id": "cli-2", "receipt": receipt("CLI-2")})
        assert status == 202 and body["ok"] is True
        assert serve.stop(signal.SIGKILL) != 0
        vp.start()
        again = procs("serve", "--config", str(config))
        url = again.expect(r"listening on (http://127\.0\.0\.1:\d+)").group(1)
        jobs = vp.wait_for_jobs(3, timeout=20)
        assert "CLI-2" in jobs[2].text
        assert again.stop(signal.SIGTERM) == 0
    finally:
        vp.stop()


def _kill_mid_job(tmp_path: Path, procs, vp: VirtualPrinter, interrupted: str) -> Proc:
    """A real `iot-proxy serve` is SIGKILLed while its printer is printing a job: the
    printer got every byte (it prints them) but the proxy never heard it finish. Returns
    the proxy started again on the same queue."""
    config = write_config(tmp_path, vp.port, interrupted)
    serve = procs("serve", "--config", str(config))
    url = serve.expect(r"listening on (http://127\.0\.0\.1:\d+)").group(1)
    vp.stall = True  # a long receipt: the answer after the job's bytes comes late
    status, body, _ = http("POST", url + "/printers/receipt/jobs",
                           {"job_id": "mid-1", "receipt": receipt("MID-1")})
    assert status == 202 and body["ok"] is True
    wait_until(lambda: http("GET", url + "/jobs/mid-1")[1]["status"] == "printing",
               what="job printing")
    wait_until(lambda: vp.received > 500, what="the job's bytes at the printer")
    assert serve.stop(signal.SIGKILL) != 0
    vp.stall = False
    first = vp.wait_for_jobs(1)[0]
    assert "MID-1" in first.text and "COPY" not in first.text
    again = procs("serve", "--config", str(config))
    again.url = again.expect(r"listening on (http://127\.0\.0\.1:\d+)").group(1)
    return again


def test_proxy_killed_mid_job_reprints_it_marked_copy(tmp_path, procs):
    """interrupted = "copy" (the default): the job is printed again after the restart,
    with the COPY mark above it; the next job prints once, unmarked"""
    with VirtualPrinter() as vp:
        again = _kill_mid_job(tmp_path, procs, vp, "copy")
        jobs = vp.wait_for_jobs(2, timeout=20)
        assert "MID-1" in jobs[1].text
        assert "*** COPY ***" in jobs[1].decoded.styled(bold=True, size=(2, 2))
        assert jobs[1].text.index("COPY") < jobs[1].text.index("MID-1")
        job = wait_until(lambda: (j := http("GET", again.url + "/jobs/mid-1")[1])["status"]
                         == "done" and j, what="reprint done")
        assert job["job"]["interrupted"] is True and job["job"]["copy"] is True
        status, body, _ = http("POST", again.url + "/printers/receipt/jobs",
                               {"job_id": "after-1", "receipt": receipt("AFTER-1"),
                                "wait": 10})
        assert status == 200 and body["status"] == "done"
        jobs = vp.wait_for_jobs(3)
        assert "AFTER-1" in jobs[2].text and "COPY" not in jobs[2].text
        assert len(vp.jobs) == 3


def test_proxy_killed_mid_job_holds_it_for_the_cashier(tmp_path, procs):
    """interrupted = "hold": after the restart the job is held, not printed; later jobs
    print; the cashier's reprint prints it (here marked COPY, as asked)"""
    with VirtualPrinter() as vp:
        again = _kill_mid_job(tmp_path, procs, vp, "hold")
        job = http("GET", again.url + "/jobs/mid-1")[1]
        assert job["status"] == "held" and "cashier" in job["message"]
        status = http("GET", again.url + "/status")[1]
        assert status["queue"]["held"] == 1 and status["queue"]["interrupted"] == "hold"
        held = http("GET", again.url + "/jobs?status=held")[1]["jobs"]
        assert [j["job_id"] for j in held] == ["mid-1"]
        status, body, _ = http("POST", again.url + "/printers/receipt/jobs",
                               {"job_id": "next-1", "receipt": receipt("NEXT-1"), "wait": 10})
        assert status == 200 and body["status"] == "done"
        jobs = vp.wait_for_jobs(2)
        assert "NEXT-1" in jobs[1].text and len(vp.jobs) == 2  # mid-1 not printed again
        status, body, _ = http("POST", again.url + "/jobs/mid-1/reprint", {"copy": True})
        assert status == 200 and body["status"] == "queued", body
        jobs = vp.wait_for_jobs(3, timeout=20)
        assert "MID-1" in jobs[2].text and "COPY" in jobs[2].text
        wait_until(lambda: http("GET", again.url + "/jobs/mid-1")[1]["status"] == "done")
        status, body, _ = http("POST", again.url + "/jobs/mid-1/reprint")
        assert status == 409 and body["ok"] is False
        assert len(vp.jobs) == 3


def test_virtual_printer_and_test_print_commands(tmp_path, procs):
    printer = procs("virtual-printer", "--port", "0")
    port = int(printer.expect(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    assert main(["test-print", "--host", "127.0.0.1", "--printer-port", str(port),
                 "--drawer", "2", "--data-dir", str(tmp_path)]) == 0
    printer.expect(r"----- job 1 ")
    printer.expect(r"Demo Shop")
    printer.expect(r"\[barcode type=CODE128 data=S-000123\]")
    printer.expect(r"\[qr data=https://shop.example/r/S-000123\]")
    printer.expect(r"\[cut mode=full\]")
    printer.expect(r"\[drawer pin=2")
    assert printer.stop(signal.SIGINT) == 0


def test_virtual_printer_stops_on_ctrl_c_when_started_in_the_background():
    """A script's background job starts with SIGINT ignored: Ctrl-C (SIGINT)
    still stops the virtual printer cleanly"""
    proc = subprocess.Popen(
        [SCRIPT, "virtual-printer", "--port", "0"], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert proc.stdout is not None
        assert "listening on" in proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_test_print_reports_an_unreachable_printer(tmp_path, capsys):
    with VirtualPrinter() as vp:
        port = vp.port
    assert main(["test-print", "--host", "127.0.0.1", "--printer-port", str(port),
                 "--data-dir", str(tmp_path)]) == 1
    assert "unreachable" in capsys.readouterr().err


def test_devices_command_lists_configured_devices(tmp_path, capsys):
    assert main(["devices", "--config", str(EXAMPLE), "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "printer  receipt" in out and "drawer   drawer" in out
    assert "Detected on this machine:" in out
    assert os.path.exists(EXAMPLE)
