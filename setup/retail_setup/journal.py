"""setup/retail verify-journal: walk the receipt journal of every terminal
of a database (docs/journal.md) and print its breaks."""
from . import SetupError


def verify_journal(config_path, database, terminal=None, out=print):
    """Print each terminal's journal state and its breaks; return the exit
    code: 0 when no chain is broken, 1 otherwise"""
    from trytond import config as tconfig
    tconfig.update_etc(config_path)
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool.start()
    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0, readonly=True):
        Operation = pool.get('retail.sync.operation')
        Terminal = pool.get('sale.point')
        terminals = None
        if terminal is not None:
            with Transaction().set_context(active_test=False):
                domain = ['OR', ('name', '=', terminal),
                    ('receipt_prefix', '=', terminal)]
                if terminal.isdigit():
                    domain.append(('id', '=', int(terminal)))
                terminals = Terminal.search(domain)
            if not terminals:
                raise SetupError(
                    f"No terminal is named {terminal!r} (give its name, "
                    "receipt prefix or id).")
        reports = Operation.verify_journal(terminals)
        broken = 0
        for report in reports:
            terminal = report['terminal']
            out(f"{terminal.rec_name} (id {terminal.id}): {report['state']}, "
                f"{report['entries']} entries, {report['chained']} chained, "
                f"{len(report['breaks'])} breaks")
            for brk in report['breaks']:
                receipt = (f" receipt {brk['receipt_number']}"
                    if brk['receipt_number'] is not None else "")
                out(f"  BREAK {brk['kind']} at sequence {brk['sequence']}"
                    f"{receipt} (operation {brk['uuid']}): {brk['message']}")
            if report['breaks']:
                broken += 1
        if broken:
            out(f"{broken} terminal journal(s) broken.")
            return 1
        out("No break in the journal.")
        return 0
