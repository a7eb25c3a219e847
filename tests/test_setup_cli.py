"""The set-up command's errors: one clear line, a non-zero exit, no
traceback, nothing changed.

These tests never depend on what a person has running: every command gets
a free port and its own var/ directory (RETAIL_VAR), and the whole module
runs with the default ports 8000 (the back office of ./setup/start) and
8070 (the hardware proxy) taken, as they are while the demo runs."""
import errno
import os
import socket
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_PORTS = (8000, 8070)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def listening(port):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(('127.0.0.1', port)) == 0


@pytest.fixture(scope='module', autouse=True)
def default_ports_taken():
    """Occupy 8000 and 8070 with listening sockets for every test here (a
    port that is already in use, e.g. by the demo server, stays so)"""
    held = []
    for port in DEFAULT_PORTS:
        sock = socket.socket()
        try:
            sock.bind(('127.0.0.1', port))
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE:
                raise
            continue
        sock.listen()
        held.append(sock)
    yield
    for sock in held:
        sock.close()


@pytest.fixture(autouse=True)
def var(tmp_path, monkeypatch):
    "A var/ of the test's own for the CLI, never the checkout's"
    path = tmp_path / 'var'
    monkeypatch.setenv('RETAIL_VAR', str(path))
    return path


def run_cli(*args, env=None):
    environ = dict(os.environ,
        PYTHONPATH=os.path.join(ROOT, 'setup'), **(env or {}))
    if args[:1] == ('start',) and '--port' not in args:
        args = (*args, '--port', str(free_port()))
    return subprocess.run([sys.executable, '-m', 'retail_setup', *args],
        capture_output=True, text=True, env=environ, cwd=ROOT, timeout=120)


def test_default_ports_are_taken_while_these_tests_run():
    "The fixture above holds: the tests below pass with 8000 and 8070 busy"
    for port in DEFAULT_PORTS:
        assert listening(port), port


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


def test_start_on_a_port_in_use_changes_nothing(var):
    var.mkdir()
    config = var / 'trytond.conf'
    config.write_text('# a configuration a person wrote\n')
    before = config.stat().st_mtime_ns
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_cli('start', '--port', str(port), '--name', 'never_made')
    assert_one_line_error(result, f"Port {port}", "--port")
    assert sorted(p.name for p in var.iterdir()) == ['trytond.conf']
    assert config.stat().st_mtime_ns == before


def test_start_on_the_default_port_in_use_says_so():
    "Without --port, start uses 8000: taken here, it answers one line"
    environ = dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'setup'))
    result = subprocess.run(
        [sys.executable, '-m', 'retail_setup', 'start',
            '--name', 'never_made'],
        capture_output=True, text=True, env=environ, cwd=ROOT, timeout=120)
    assert_one_line_error(result, "Port 8000", "--port")


def test_var_directory_follows_retail_var(var):
    "The state of set-up goes where RETAIL_VAR says; the web client stays"
    code = ("import retail_setup, retail_setup.server as s, "
        "retail_setup.cli as c;"
        "print(retail_setup.VAR); print(c.CONFIG); print(s.WEB_ROOT)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
        text=True, check=True, cwd=ROOT, env=dict(os.environ,
            PYTHONPATH=os.path.join(ROOT, 'setup'))).stdout.split()
    assert out == [str(var), str(var / 'trytond.conf'),
        os.path.join(ROOT, 'var', 'sao')]


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


def test_start_updates_an_older_database(var, tmp_path):
    """A database made by an earlier version of the modules is updated by
    the next start (trytond-admin -u), once: a table the new version adds
    is made (the demo had no bootstrap page table, and every enrollment
    failed)"""
    import sqlite3
    code = ("import sys; from retail_setup import cli, server as s;"
        "cli.prepare_database('sqlite', 'sqlite://', sys.argv[1], 'older',"
        " demo=False, db_path=sys.argv[2]);"
        "print('updated' if cli.update_database('sqlite', 'sqlite://',"
        " sys.argv[1], 'older', db_path=sys.argv[2], say=lambda *a: None)"
        " else 'current')")
    db_path = tmp_path / 'db'
    db_path.mkdir()
    config = tmp_path / 'trytond.conf'
    environ = dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'setup'),
        RETAIL_ADDONS='retail_sync')
    code = ("import sys; from retail_setup import server as s;"
        "s.write_config(sys.argv[1], 'sqlite://', 0, db_path=sys.argv[2])"
        ) + ';' + code.split(';', 1)[1]

    def run():
        return subprocess.run([sys.executable, '-c', code, str(config),
                str(db_path)], capture_output=True, text=True, env=environ,
            cwd=ROOT, timeout=600)
    made = run()
    assert made.stdout.split()[-1:] == ['current'], made.stderr
    table = 'retail_sync_bootstrap_page'
    with sqlite3.connect(db_path / 'older.sqlite') as connection:
        connection.execute(f'DROP TABLE {table}')
    # the modules changed since (their stamp says another version)
    stamp, = (var / 'stamps').glob('modules-older-*')
    stamp.write_text('an earlier version')
    updated = run()
    # prepare_database (as start calls it) updated it, once
    assert "Updating the modules of database 'older'" in updated.stdout, (
        updated.stdout, updated.stderr)
    assert updated.stdout.split()[-1:] == ['current'], updated.stderr
    with sqlite3.connect(db_path / 'older.sqlite') as connection:
        assert connection.execute("SELECT COUNT(*) FROM sqlite_master "
            "WHERE name = ?", (table,)).fetchone() == (1,)
    again = run()
    assert 'Updating' not in again.stdout
    assert again.stdout.split()[-1:] == ['current'], again.stderr


def test_detached_start_says_how_to_stop_it():
    """A start in the background says its pid and how to stop it, not
    Ctrl-C, which no longer reaches it"""
    sys.path.insert(0, os.path.join(ROOT, 'setup'))
    try:
        from retail_setup.cli import how_to_stop
    finally:
        sys.path.remove(os.path.join(ROOT, 'setup'))
    detached = how_to_stop('var/log/trytond.log', 4242, True)
    assert 'Ctrl-C' not in detached
    assert 'kill 4242' in detached and 'var/log/trytond.log' in detached
    assert 'Ctrl-C' in how_to_stop('var/log/trytond.log', 4242, False)
