"""The real hardware proxy for the POS end-to-end tests: `iot-proxy
virtual-printer` (a network ESC/POS printer that prints what it receives,
decoded) and `iot-proxy serve` in front of it, on free loopback ports, with
a configuration that allows the POS page's origin (iot_proxy/README.md).

    with IotProxy(tmp_path, origin='http://127.0.0.1:8000') as proxy:
        proxy.url                   # http://127.0.0.1:PORT (the POS's setting)
        proxy.wait_for_jobs(2)      # what the printer received, decoded
        proxy.stop_service()        # the proxy goes away, the printer stays

    IotProxy(tmp_path, origins, payment_terminal={'outcome': 'manual'})
        also serves the virtual card terminal "card": proxy.pending_payment(),
        proxy.simulate(payment_id, 'approved' or 'declined')
"""
import json
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

IOT_PROXY = Path(sys.executable).with_name('iot-proxy')


def available():
    return IOT_PROXY.exists() or shutil.which('iot-proxy') is not None


class Process:
    "A command whose stdout lines are kept and can be awaited"

    def __init__(self, *args):
        command = str(IOT_PROXY) if IOT_PROXY.exists() else 'iot-proxy'
        self.proc = subprocess.Popen([command, *args], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors='replace')
        self.lines = []
        self.new = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip('\n'))
            self.new.put(line)

    def expect(self, pattern, timeout=30):
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            try:
                line = self.new.get(
                    timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no line matching {pattern!r} in {timeout} s; saw {seen}")
            seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


CONFIG = """\
data_dir = "{data}"

[server]
host = "127.0.0.1"
port = 0
allowed_origins = [{origins}]
allowed_hosts = []
pairing_token = ""
require_token_on_loopback = false

[queue]
retry_initial = 0.2
retry_max = 1.0
retention_days = 7
poll_interval = 0

[[printers]]
name = "receipt"
transport = "network"
host = "127.0.0.1"
port = {printer_port}
paper_width = 80
codepage = "CP858"
status = true
timeout = 5.0

[[drawers]]
name = "drawer"
printer = "receipt"
pin = 2
sensor = "none"
"""


PAYMENT_TERMINAL = """
[[payment_terminals]]
name = "card"
transport = "virtual"
outcome = "{outcome}"
delay = {delay}
timeout = {timeout}
"""


class IotProxy:
    def __init__(self, directory, origins, payment_terminal=None):
        self.directory = Path(directory)
        self.origins = [o.rstrip('/') for o in origins]
        self.payment_terminal = payment_terminal
        self.printer = None
        self.service = None
        self.url = None

    def start(self):
        self.printer = Process('virtual-printer', '--port', '0')
        port = int(self.printer.expect(
                r'listening on 127\.0\.0\.1:(\d+)').group(1))
        config = self.directory / 'iot-proxy.toml'
        config.write_text(CONFIG.format(data=self.directory / 'data',
                origins=', '.join(f'"{o}"' for o in self.origins),
                printer_port=port) + (PAYMENT_TERMINAL.format(
                    **{'outcome': 'manual', 'delay': 0.5, 'timeout': 60,
                        **self.payment_terminal})
                if self.payment_terminal is not None else ''))
        self.config = config
        self.start_service()
        return self

    def start_service(self):
        self.service = Process('serve', '--config', str(self.config))
        self.url = self.service.expect(
            r'listening on (http://127\.0\.0\.1:\d+)').group(1)
        return self.url

    def stop_service(self):
        if self.service:
            self.service.stop()
            self.service = None

    def jobs(self):
        """What the printer printed: one (text, commands) per job, commands
        being the decoder's bracketed lines ([barcode ...], [cut ...])"""
        jobs, current = [], None
        for line in list(self.printer.lines):
            if re.match(r'----- job \d+ ', line):
                current = {'text': [], 'commands': []}
                jobs.append(current)
            elif current is not None:
                (current['commands'] if re.match(r'\[\w+', line)
                    else current['text']).append(line)
        return [{'text': '\n'.join(j['text']), 'commands': j['commands']}
            for j in jobs]

    def wait_for_jobs(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            lines = list(self.printer.lines)
            jobs = self.jobs()
            # the last job is complete when the blank line closing its
            # decoded commands ([cut ...], [drawer ...]) arrived
            if (len(jobs) >= count and lines[-1:] == ['']
                    and lines[-2:-1] and lines[-2].startswith('[')):
                return jobs
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(jobs)} job(s) printed, "
                    f"{count} expected: {self.printer.lines[-40:]}")
            time.sleep(0.1)

    def call(self, method, path, body=None):
        "The proxy's HTTP API, as the till calls it (JSON in and out)"
        request = urllib.request.Request(self.url + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(request, timeout=35) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as error:
            return json.load(error)

    def pending_payment(self, timeout=30):
        "The id of the payment the card terminal waits a card for"
        deadline = time.monotonic() + timeout
        while True:
            terminal = self.call('GET', '/payment_terminals/card')['terminal']
            if terminal['pending']:
                return terminal['pending']
            if time.monotonic() > deadline:
                raise AssertionError(f"no payment on the terminal: {terminal}")
            time.sleep(0.1)

    def payment(self, payment_id, wait=0):
        return self.call('GET',
            f'/payment_terminals/card/payments/{payment_id}?wait={wait}'
            )['payment']

    def simulate(self, payment_id, outcome):
        "The customer's card on the virtual terminal: approved or declined"
        return self.call('POST',
            f'/payment_terminals/card/payments/{payment_id}/simulate',
            {'outcome': outcome})['payment']

    def close(self):
        self.stop_service()
        if self.printer:
            self.printer.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
