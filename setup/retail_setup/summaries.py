"""setup/retail rebuild-summaries: make the owner's dashboard's summary
tables again from the recorded sales (docs/reports.md, "Owner's
dashboard")."""
import time


def rebuild_summaries(config_path, database, out=print):
    "Rebuild the summaries of database in one transaction; return 0"
    from trytond import config as tconfig
    tconfig.update_etc(config_path)
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool.start()
    pool = Pool(database)
    pool.init()
    started = time.monotonic()
    with Transaction().start(database, 0) as transaction:
        Summary = pool.get('retail.report.sales_summary')
        Summary.rebuild()
        cursor = transaction.connection.cursor()
        counts = []
        for Model in [Summary, pool.get('retail.report.product_summary')]:
            table = Model.__table__()
            cursor.execute(*table.select(table.id))
            counts.append(len(cursor.fetchall()))
        transaction.commit()
    out(f"Summaries rebuilt in {time.monotonic() - started:.1f} s: "
        f"{counts[0]} rows per terminal and hour, {counts[1]} per "
        "terminal, day and product.")
    return 0
