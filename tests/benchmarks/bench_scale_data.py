"""Benchmark: creating N scale-test variants (setup/retail scale) on SQLite
and on PostgreSQL, each on a fresh demo database.

    .venv/bin/python tests/benchmarks/bench_scale_data.py [--products N]

Prints the seconds and variants per second of each backend (the demo
load before it is not timed)."""
import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'setup'))

from retail_setup import cli, server  # noqa: E402
from tests.support.servers import PostgresServer  # noqa: E402


def run(backend_uri, name, products, directory):
    backend, uri = server.parse_db_uri(backend_uri)
    config = os.path.join(directory, f'{name}.conf')
    db_path = os.path.join(directory, 'db')
    server.write_config(config, uri, server.free_or_given_port(None),
        db_path=db_path)
    server.create_database(backend, uri, name, db_path=db_path)
    server.initialize_database(config, name, cli.ADMIN_PASSWORD,
        modules=cli._modules())
    cli.load_demo(config, name, say=lambda *a: None)
    import subprocess
    out = subprocess.run([sys.executable, '-c', (
                'import sys; sys.path.insert(0, %r); '
                'from retail_setup.scale import create_products; '
                'n, s = create_products(%r, %r, %d, say=None); '
                'print(n, s)') % (os.path.join(ROOT, 'setup'), config, name,
                products)],
        capture_output=True, text=True, check=True)
    made, seconds = out.stdout.split()
    return int(made), float(seconds)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--products', type=int, default=100_000)
    parser.add_argument('--one', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        # One backend per process: trytond's configuration is global
        with tempfile.TemporaryDirectory() as directory:
            print(*run(args.one, 'bench_scale', args.products, directory))
        return
    import subprocess
    results = {}
    with PostgresServer(reuse_env=False) as pg:
        for backend, uri in [('SQLite', 'sqlite://'), ('PostgreSQL', pg.uri)]:
            out = subprocess.run([sys.executable, __file__, '--one', uri,
                    '--products', str(args.products)],
                capture_output=True, text=True, check=True)
            made, seconds = out.stdout.split()[-2:]
            results[backend] = (int(made), float(seconds))
    print(f"{'backend':<12} {'variants':>9} {'seconds':>8} {'variants/s':>11}")
    for backend, (made, seconds) in results.items():
        print(f"{backend:<12} {made:>9} {seconds:>8.1f} "
            f"{made / seconds:>11.0f}")


if __name__ == '__main__':
    main()
