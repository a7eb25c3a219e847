"""The suite's set-up command: databases, demo and scale data, the server.

Every error a person can make or meet here (a wrong URI, an unreachable
database, a port in use, a missing binary) ends in one line that says what
is wrong and what to do, and a non-zero exit, never a traceback."""
import argparse
import configparser
import getpass
import hashlib
import os
import secrets
import sys
import time

from . import ADDONS, VAR, SetupError, addon_modules
from . import server as srv

DEFAULT_PORT = 8000
DEFAULT_NAME = 'retail'
DEMO_MODULES = ['stock_lot_sled', 'product_attribute']
CONFIG = os.path.join(VAR, 'trytond.conf')
# The demo database of setup/start only; create-db asks for or generates
# each tenant's own passwords
ADMIN_PASSWORD = 'retail-admin'
MIN_PASSWORD = 8


def _modules():
    return addon_modules() + DEMO_MODULES


def _config_for(args):
    """(backend, uri, configuration file, SQLite directory or None): with
    --config, the database server and directory of that file unless --db
    names another server"""
    db_path = None
    db = args.db
    if args.config:
        if not os.path.isfile(args.config):
            raise SetupError(
                f"The configuration file {args.config} does not exist: copy "
                "trytond.conf.example and edit it.")
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(args.config)
        except configparser.Error as exc:
            raise SetupError(
                f"The configuration file {args.config} cannot be read: "
                f"{exc.message.splitlines()[0]}")
        db = db or parser.get('database', 'uri', fallback=None)
        db_path = parser.get('database', 'path', fallback=None)
    backend, uri = srv.parse_db_uri(db)
    if backend == 'postgresql':
        from .pg import check_postgresql_uri
        check_postgresql_uri(uri)
    if args.config:
        return backend, uri, args.config, db_path
    port = getattr(args, 'port', None) or DEFAULT_PORT
    srv.write_config(CONFIG, uri, port)
    return backend, uri, CONFIG, None


def prepare_database(backend, uri, config_path, name, demo=True,
        products=0, say=print, db_path=None, summary_dir=None,
        admin_password=ADMIN_PASSWORD, demo_password=None, summary=True):
    """Create and initialize a database with the suite when missing;
    return True when it was created.  db_path: where SQLite files go when
    not var/db; summary_dir: where the demo's logins and PINs are written
    when not var/; summary: keep the demo logins in that file (the demo of
    setup/start) rather than print them once"""
    if srv.database_exists(backend, uri, name, db_path=db_path):
        update_database(backend, uri, config_path, name, say=say,
            db_path=db_path)
        return False
    say(f"Creating database '{name}' ({backend})")
    srv.create_database(backend, uri, name, db_path=db_path)
    try:
        start = time.monotonic()
        srv.initialize_database(config_path, name, admin_password,
            modules=_modules())
        say(f"Modules installed in {time.monotonic() - start:.0f}s")
        if demo:
            start = time.monotonic()
            logins = load_demo(config_path, name, say=say,
                admin_password=admin_password, demo_password=demo_password)
            if summary:
                _write_summary(name, logins, summary_dir)
            else:
                say('\n'.join(_summary_lines(logins)))
            say(f"Demo data loaded in {time.monotonic() - start:.0f}s")
        if products:
            from .scale import create_products
            create_products(config_path, name, products, say=say)
    except BaseException:
        # A half-made database would be taken for a good one next time
        srv.drop_database(backend, uri, name, db_path=db_path)
        raise
    _write_stamp(backend, uri, name, db_path)
    return True


def modules_stamp():
    """A fingerprint of what the suite's modules put in a database: the
    contents of their code, views, data and translations (not their
    tests)"""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(ADDONS):
        dirnames[:] = sorted(d for d in dirnames
            if d not in {'tests', '__pycache__'}
            and not d.endswith('.egg-info'))
        for filename in sorted(filenames):
            if filename.endswith(('.py', '.xml', '.cfg', '.po', '.fodt')):
                path = os.path.join(dirpath, filename)
                digest.update(os.path.relpath(path, ADDONS).encode())
                with open(path, 'rb') as fp:
                    digest.update(fp.read())
    return digest.hexdigest()


def _stamp_path(backend, uri, name, db_path=None):
    "Where the stamp of one database (its server or file and name) is"
    where = hashlib.sha256(
        f'{backend}|{uri}|{db_path}|{name}'.encode()).hexdigest()[:16]
    return os.path.join(VAR, 'stamps', f'modules-{name}-{where}')


def _write_stamp(backend, uri, name, db_path=None):
    path = _stamp_path(backend, uri, name, db_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as fp:
        fp.write(modules_stamp())


def update_database(backend, uri, config_path, name, say=print,
        db_path=None):
    """Update the suite's modules in an existing database when their code
    changed since it was last made or updated (a new version of the suite:
    new tables, fields, views, data), as `trytond-admin -u` does"""
    path = _stamp_path(backend, uri, name, db_path)
    if os.path.exists(path):
        with open(path) as fp:
            if fp.read().strip() == modules_stamp():
                return False
    say(f"Updating the modules of database '{name}' to this version")
    start = time.monotonic()
    srv.update_database(config_path, name, _modules())
    _write_stamp(backend, uri, name, db_path)
    say(f"Modules updated in {time.monotonic() - start:.0f}s")
    return True


def load_demo(config_path, name, say=print, admin_password=ADMIN_PASSWORD,
        demo_password=None):
    from proteus import config as pconfig

    from . import demo
    config = pconfig.set_trytond(database=name, config_file=config_path)
    return demo.load(config, admin_password, say=say,
        demo_password=demo_password or demo.DEMO_PASSWORD)


def _summary_path(name, directory=None):
    return os.path.join(directory or VAR, f'demo-{name}.txt')


def _write_summary(name, summary, directory=None):
    os.makedirs(directory or VAR, exist_ok=True)
    with open(_summary_path(name, directory), 'w') as fp:
        fp.write('\n'.join(_summary_lines(summary)) + '\n')


def _summary_lines(summary):
    lines = ["Back-office logins (login / password / role / branches):"]
    for login, password, role, branches, _ in summary['logins']:
        lines.append(f"  {login:<12} {password:<13} {role:<14} {branches}")
    lines.append("POS employees and their demo PINs:")
    for employee, role, branches, pin in summary['employees']:
        lines.append(f"  {employee:<16} PIN {pin}  {role:<14} {branches}")
    lines.append("Terminals: " + ", ".join(summary['terminals']))
    return lines


def new_password():
    "A random password for a tenant's user, 16 characters"
    return secrets.token_urlsafe(12)


def ask_admin_password(name, password_file=None):
    """The admin password of a new tenant: read from password_file, asked
    at the terminal (empty: generated), or generated when there is no
    terminal; return (password, generated)"""
    if password_file:
        try:
            with open(password_file) as fp:
                password = fp.readline().rstrip('\r\n')
        except OSError as exc:
            raise SetupError(
                f"Cannot read the password file {password_file}: "
                f"{exc.strerror}.")
        _check_password(password)
        return password, False
    if not sys.stdin.isatty():
        return new_password(), True
    password = getpass.getpass(
        f"Password of 'admin' in '{name}' (empty: generate one): ")
    if not password:
        return new_password(), True
    _check_password(password)
    if getpass.getpass("The same password again: ") != password:
        raise SetupError("The two passwords differ: nothing was created.")
    return password, False


def _check_password(password):
    if len(password) < MIN_PASSWORD:
        raise SetupError(
            f"The admin password must have at least {MIN_PASSWORD} "
            "characters: nothing was created.")


def format_figures(figures):
    "The shop's figures as start prints them"
    return (f"Shop figures: {figures['products']} products, "
        f"{figures['lots']} lots, {figures['stock_units'].normalize():f} "
        f"units in stock worth {figures['stock_value']:,} "
        f"{figures['currency']} at cost price.")


def how_to_stop(log_path, pid, detach):
    "Where the server logs and how to stop it, as start says it last"
    if detach:
        return (f"Log: {log_path}. Running in the background (pid {pid}): "
            f"stop it with `kill {pid}`.")
    return f"Log: {log_path}. Stop with Ctrl-C."


def cmd_start(args):
    from .pg import port_in_use
    if port_in_use(args.port):
        # Before anything is created or written
        raise SetupError(
            f"Port {args.port} on 127.0.0.1 is already in use: stop the "
            "program using it or choose another with --port.")
    backend, uri, config_path, db_path = _config_for(args)
    started = time.monotonic()
    prepare_database(backend, uri, config_path, args.name,
        demo=not args.no_demo, products=args.products, db_path=db_path)
    srv.assemble_web_root()
    process = srv.TrytondProcess(config_path, args.port, [args.name])
    process.start()
    print()
    print(f"The retail back office is ready at {process.url} "
        f"(database '{args.name}', {backend}), "
        f"in {time.monotonic() - started:.1f}s.")
    if os.path.exists(os.path.join(srv.WEB_ROOT, 'pos')):
        print(f"The POS is at {process.url}pos/")
    if os.path.exists(_summary_path(args.name)):
        with open(_summary_path(args.name)) as fp:
            print(fp.read().rstrip())
    figures = srv.shop_figures(backend, uri, args.name)
    if figures:
        print(format_figures(figures))
    print(how_to_stop(process.log_path, process.process.pid, args.detach))
    if args.detach:
        return 0
    try:
        return process.wait()
    except KeyboardInterrupt:
        print("\nStopping…")
        process.stop()
        return 0


def cmd_create_db(args):
    backend, uri, config_path, db_path = _config_for(args)
    if srv.database_exists(backend, uri, args.name, db_path=db_path):
        raise SetupError(
            f"The database '{args.name}' exists already: choose another "
            "name for the new tenant.")
    password, generated = ask_admin_password(
        args.name, args.admin_password_file)
    prepare_database(backend, uri, config_path, args.name,
        demo=args.demo, products=args.products, admin_password=password,
        demo_password=new_password() if args.demo else None, summary=False,
        db_path=db_path)
    print(f"Database '{args.name}' is ready and served at once by the "
        "running trytond: log in with its name on the back office's login "
        "screen.")
    if generated:
        print(f"Its administrator: login 'admin', password '{password}' "
            "(shown only now: note it, or change it in the back office, "
            "user menu > Preferences).")
    else:
        print("Its administrator: login 'admin' with the password given.")
    return 0


def cmd_scale(args):
    backend, uri, config_path, db_path = _config_for(args)
    if not srv.database_exists(backend, uri, args.name, db_path=db_path):
        raise SetupError(
            f"The database '{args.name}' does not exist: create it first "
            "with 'setup/start' or 'setup/retail create-db'.")
    from .scale import create_products
    create_products(config_path, args.name, args.products)
    return 0


def cmd_verify_journal(args):
    backend, uri, config_path, db_path = _config_for(args)
    if not srv.database_exists(backend, uri, args.name, db_path=db_path):
        raise SetupError(
            f"The database '{args.name}' does not exist: name it with "
            "--name.")
    from .journal import verify_journal
    return verify_journal(config_path, args.name, terminal=args.terminal)


def cmd_rebuild_summaries(args):
    backend, uri, config_path, db_path = _config_for(args)
    if not srv.database_exists(backend, uri, args.name, db_path=db_path):
        raise SetupError(
            f"The database '{args.name}' does not exist: name it with "
            "--name.")
    from .summaries import rebuild_summaries
    return rebuild_summaries(config_path, args.name)


def _positive(value):
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number")
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return number


def _port(value):
    number = _positive(value)
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port")
    return number


def main(argv=None):
    parser = argparse.ArgumentParser(prog='setup/retail',
        description="Install, run and fill the retail suite")
    sub = parser.add_subparsers(dest='command', required=True)

    def common(p, port=False):
        p.add_argument('--db', default=os.environ.get('RETAIL_DB_URI'),
            help="database server URI: sqlite:// (default) or "
            "postgresql://USER:PASSWORD@HOST:PORT/")
        p.add_argument('--name', default=DEFAULT_NAME,
            help="database (tenant) name (default: %(default)s)")
        p.add_argument('--config', help="use this trytond configuration "
            "file instead of writing var/trytond.conf")
        if port:
            p.add_argument('--port', type=_port, default=DEFAULT_PORT,
                help="HTTP port on 127.0.0.1 (default: %(default)s)")

    p = sub.add_parser('start', help="create the database with demo data "
        "when missing and serve the back office")
    common(p, port=True)
    p.add_argument('--products', type=_positive, default=0,
        help="also create N scale-test product variants")
    p.add_argument('--no-demo', action='store_true',
        help="an empty database instead of the demo chain")
    p.add_argument('--detach', action='store_true',
        help="leave the server running in the background")
    p.set_defaults(func=cmd_start)

    p = sub.add_parser('create-db', help="add a tenant database")
    common(p)
    p.add_argument('--demo', action='store_true', help="with demo data "
        "(its users get a generated password, printed once)")
    p.add_argument('--products', type=_positive, default=0)
    p.add_argument('--admin-password-file', metavar='FILE',
        help="read the admin password from the first line of FILE instead "
        "of asking for it (without a terminal, one is generated)")
    p.set_defaults(func=cmd_create_db)

    p = sub.add_parser('scale', help="create N product variants in bulk")
    common(p)
    p.add_argument('--products', type=_positive, required=True)
    p.set_defaults(func=cmd_scale)

    p = sub.add_parser('verify-journal', help="walk the receipt journal "
        "of every terminal and print its breaks (exit code 1 on any)")
    common(p)
    p.add_argument('--terminal', help="only this terminal (name, receipt "
        "prefix or id)")
    p.set_defaults(func=cmd_verify_journal)

    p = sub.add_parser('rebuild-summaries', help="make the dashboard's "
        "summary tables again from the recorded sales")
    common(p)
    p.set_defaults(func=cmd_rebuild_summaries)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == '__main__':
    sys.exit(main())
