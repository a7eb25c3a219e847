"""The set-up command's errors: one clear line, a non-zero exit, no
traceback, nothing changed."""
import os
import socket
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args, env=None):
    environ = dict(os.environ,
        PYTHONPATH=os.path.join(ROOT, 'setup'), **(env or {}))
    return subprocess.run([sys.executable, '-m', 'retail_setup', *args],
        capture_output=True, text=True, env=environ, cwd=ROOT, timeout=120)


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    assert 'Traceback' not in result.stderr
    lines = [l for l in result.stderr.strip().splitlines() if l]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith('error: ')
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_wrong_uri_scheme():
    result = run_cli('start', '--db', 'mysql://localhost/', '--no-demo')
    assert_one_line_error(result, "Unknown database URI", "postgresql://")


def test_uri_naming_a_database():
    result = run_cli('start', '--db', 'postgresql://u@127.0.0.1:5/shop')
    assert_one_line_error(result, "must not name a database", "--name")


def test_unreachable_database():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    # Nothing listens on that port once the socket is closed
    result = run_cli(
        'start', '--db', f'postgresql://postgres@127.0.0.1:{port}/')
    assert_one_line_error(result, "Cannot reach PostgreSQL", str(port))


def test_missing_config_file():
    result = run_cli('start', '--config', '/nonexistent/trytond.conf')
    assert_one_line_error(result, "does not exist", "trytond.conf.example")


def test_start_on_a_port_in_use_changes_nothing(tmp_path):
    config = os.path.join(ROOT, 'var', 'trytond.conf')
    before = os.path.getmtime(config) if os.path.exists(config) else None
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_cli('start', '--port', str(port), '--name', 'never_made')
    assert_one_line_error(result, f"Port {port}", "--port")
    assert not os.path.exists(
        os.path.join(ROOT, 'var', 'db', 'never_made.sqlite'))
    after = os.path.getmtime(config) if os.path.exists(config) else None
    assert before == after


def test_invalid_port():
    result = run_cli('start', '--port', '70000')
    assert result.returncode != 0
    assert 'Traceback' not in result.stderr
    assert 'not a TCP port' in result.stderr


def test_missing_postgresql_binaries():
    sys.path.insert(0, os.path.join(ROOT, 'setup'))
    from retail_setup import SetupError, pg
    saved = pg.PG_BIN
    pg.PG_BIN = '/nonexistent/bin'
    try:
        with pytest.raises(SetupError, match="apt-get install postgresql"):
            pg.PostgresServer(reuse_env=False).start()
    finally:
        pg.PG_BIN = saved


def test_port_in_use_for_trytond(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, 'setup'))
    from retail_setup import SetupError, server
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen()
        port = sock.getsockname()[1]
        process = server.TrytondProcess(str(tmp_path / 'x.conf'), port)
        with pytest.raises(SetupError, match=f"Port {port} .* in use"):
            process.start()
    assert process.process is None
