"""The Debian package of the proxy (packaging/build-deb), built, installed
with dpkg on this machine, run as its systemd unit says, and purged.

Needs root and dpkg (it installs into the real system, as a shop PC would;
a lock keeps two runs on one machine apart).  Where systemd is not the
init process (a container), the package's scripts cannot start the unit:
the test checks what systemd would do instead: the unit is enabled for
multi-user.target, `systemd-analyze verify` accepts it, and its ExecStart
command runs under its User, Group and supplementary groups with its
state directory, answers, and stops cleanly on SIGTERM.  What only a
running systemd does (Restart=, the sandboxing options, StateDirectory=
creating the directory) is not exercised here."""
import configparser
import fcntl
import grp
import json
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from iot_proxy import __version__

PROXY = Path(__file__).resolve().parents[1]
BUILD = PROXY / 'packaging' / 'build-deb'
PACKAGE = 'retail-iot-proxy'
UNIT = Path('/lib/systemd/system/iot-proxy.service')
WANTS = Path('/etc/systemd/system/multi-user.target.wants/iot-proxy.service')

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="dpkg -i needs root"),
    pytest.mark.skipif(not shutil.which('dpkg-deb'), reason="no dpkg"),
]


def run(*cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def dpkg(*args):
    "dpkg, waiting up to 2 minutes for a package manager running beside"
    for _ in range(120):
        result = run('dpkg', *args)
        if result.returncode == 0 or 'lock' not in result.stderr:
            return result
        time.sleep(1)
    return result


def status():
    result = run('dpkg-query', '-W', '-f', '${Status}', PACKAGE)
    return result.stdout if result.returncode == 0 else ''


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def deb():
    with open('/tmp/retail-iot-proxy-deb.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if status().endswith(' installed'):
            pytest.skip(f"{PACKAGE} is installed on this machine: not "
                "touching it")
        out = tempfile.mkdtemp(prefix='iot-proxy-deb-')
        try:
            result = run(sys.executable, str(BUILD), '--out', out,
                timeout=600)
            assert result.returncode == 0, result.stderr
            path = result.stdout.strip().splitlines()[-1]
            yield path
        finally:
            if status():
                dpkg('--purge', PACKAGE)
            shutil.rmtree(out, ignore_errors=True)


def test_package_fields_and_files(deb):
    arch = run('dpkg', '--print-architecture').stdout.strip()
    assert os.path.basename(deb) == f'{PACKAGE}_{__version__}_{arch}.deb'
    fields = {name: run('dpkg-deb', '-f', deb, name).stdout.strip()
        for name in ('Package', 'Version', 'Architecture', 'Depends')}
    py = f'{sys.version_info.major}.{sys.version_info.minor}'
    assert fields == {'Package': PACKAGE, 'Version': __version__,
        'Architecture': arch,
        'Depends': f'python3 (>= {py}), python3 (<< 3.'
        f'{sys.version_info.minor + 1}), adduser'}
    files = run('dpkg-deb', '--contents', deb).stdout
    for path in ('./opt/iot-proxy/bin/iot-proxy',
            './opt/iot-proxy/lib/iot_proxy/cli.py',
            './opt/iot-proxy/lib/aiohttp/', './opt/iot-proxy/lib/escpos/',
            './opt/iot-proxy/lib/serial/', './opt/iot-proxy/lib/usb/',
            './lib/systemd/system/iot-proxy.service',
            './etc/iot-proxy/config.toml'):
        assert f' {path}' in files, path
    assert 'root/root' in files and '__pycache__/cli.cpython' in files
    with tempfile.TemporaryDirectory() as control:
        run('dpkg-deb', '--control', deb, control)
        with open(os.path.join(control, 'conffiles')) as fp:
            assert fp.read().split() == ['/etc/iot-proxy/config.toml']


def test_install(deb):
    result = dpkg('-i', deb)
    assert result.returncode == 0, result.stdout + result.stderr
    assert status() == 'install ok installed'
    user = pwd.getpwnam('iot-proxy')
    assert user.pw_dir == '/var/lib/iot-proxy'
    for group in ('lp', 'dialout', 'plugdev'):
        try:
            members = grp.getgrnam(group).gr_mem
        except KeyError:
            continue  # a group this system does not have
        assert 'iot-proxy' in members, group
    state = os.stat('/var/lib/iot-proxy')
    assert (state.st_uid, stat.S_IMODE(state.st_mode)) == (user.pw_uid,
        0o700)
    # Enabled: systemd starts it at boot
    assert WANTS.is_symlink() and WANTS.resolve() == UNIT.resolve()
    version = run('/opt/iot-proxy/bin/iot-proxy', '--version')
    assert version.stdout.strip() == __version__, version.stderr


def test_unit_verifies(deb):
    result = run('systemd-analyze', 'verify', str(UNIT))
    assert result.returncode == 0, result.stderr
    assert 'iot-proxy' not in result.stderr, result.stderr


def test_runs_as_the_unit_says(deb):
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(UNIT)
    service = unit['Service']
    user, group = service['User'], service['Group']
    groups = {grp.getgrgid(g).gr_name
        for g in os.getgrouplist(user, pwd.getpwnam(user).pw_gid)}
    groups |= {g for g in service['SupplementaryGroups'].split()
        if g in {e.gr_name for e in grp.getgrall()}}
    data = Path('/var/lib') / service['StateDirectory']
    port = free_port()
    command = shlex.split(service['ExecStart']) + ['--port', str(port)]
    proxy = subprocess.Popen(['setpriv', f'--reuid={user}',
            f'--regid={group}', f"--groups={','.join(sorted(groups))}",
            '--', *command],
        cwd='/', env={'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8'},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        answer = None
        for _ in range(300):
            try:
                with urllib.request.urlopen(
                        f'http://127.0.0.1:{port}/status', timeout=2) as r:
                    answer = json.load(r)
                break
            except OSError:
                assert proxy.poll() is None, proxy.stdout.read()
                time.sleep(0.1)
        assert answer and answer['ok'] and answer['version'] == __version__
        queue = data / 'jobs.sqlite3'
        assert queue.is_file() and queue.owner() == user
        # systemd stops a service with SIGTERM
        proxy.send_signal(signal.SIGTERM)
        assert proxy.wait(timeout=30) == 0, proxy.stdout.read()
    finally:
        if proxy.poll() is None:
            proxy.kill()
            proxy.wait()


def test_purge(deb):
    result = dpkg('--purge', PACKAGE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert status() == ''
    for path in ('/opt/iot-proxy', '/etc/iot-proxy', str(UNIT),
            '/var/lib/iot-proxy'):
        assert not os.path.exists(path), path
    assert not WANTS.is_symlink()
