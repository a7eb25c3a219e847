"""The small fault-injection run of the test command (docs/reliability.md).

One trytond on PostgreSQL with its queue worker ([queue] worker = True),
three tills (the POS client's sync engine under node, fake-indexeddb)
selling through the fault proxy: FAULT_SCHEDULES (default 100) seeded
schedules of a few sales each, with cut connections, lost answers, delays,
duplicated and reordered requests; among them trytond and the worker killed
with SIGKILL and started again, tills killed right after a payment and one
terminal in two tabs.  Then: lost 0, doubled 0, no receipt gap, stock moves
equal to what was sold, every account move balanced, the server's Z equal
to each till's.  FAULT_SEED moves every seed (a failing run prints the
seeds of its schedules: FAULT_SEED replays the run)."""
import os
import threading

import pytest

from tests.support.servers import TrytondServer

from .run import FaultRun

SCHEDULES = int(os.environ.get('FAULT_SCHEDULES', 100))
SEED = int(os.environ.get('FAULT_SEED', 1000))
TERMINALS = ['BXL1', 'BXL2', 'ANT1']


@pytest.fixture(scope='module')
def server(postgres):
    with TrytondServer(postgres.uri, 'fault_test', demo=True,
            extra_config={'queue': {'worker': 'True'},
                # a posting lost with a killed worker is queued again by
                # the next heartbeat after 5 s (60 s by default)
                'retail_sync': {'posting_recovery': '5'}}) as server:
        yield server


def plan(index, seed, schedules=SCHEDULES):
    """What schedule `index` does beside its proxy faults: a few sales;
    the session closed every fourth schedule of a terminal and at the
    end"""
    terminal = TERMINALS[index % len(TERMINALS)]
    rounds = -(-schedules // len(TERMINALS))
    round_ = index // len(TERMINALS)
    options = {'sales': 1 + seed % 3,
        'close': round_ % 4 == 3 or round_ == rounds - 1}
    if index % 10 == 3:
        options['kill_after'] = [0]
    if index % 10 == 7:
        options['tabs'] = 2
        options['sales'] = 4
    if index % 8 == 5:
        options['cash_in'] = True
    kills = []
    if index % 50 == 11:
        kills.append('kill_server')
    if index % 20 == 4:
        kills.append('kill_worker')
    options['kills'] = kills
    return terminal, options


def test_nothing_lost_or_doubled(server):
    with FaultRun(server, terminals=TERMINALS, worker=True) as run:
        # the three tills sell at the same time, each its own schedule
        for start in range(0, SCHEDULES, len(TERMINALS)):
            plans = []
            for index in range(start, min(start + len(TERMINALS),
                        SCHEDULES)):
                terminal, options = plan(index, SEED + index)
                plans.append((SEED + index, terminal, options))
            run.at_once(plans)
        report = run.check()
    assert report['operations'] > SCHEDULES * 2
    assert report['lost'] == report['doubled'] == report['gaps'] == 0
    assert report['unbalanced'] == 0
    kinds = set(report['faults'])
    assert {'cut_request', 'drop_answer', 'duplicate', 'reorder',
        'delay'} <= kinds, report['faults']
    if SCHEDULES >= 100:
        assert report['kills'].get('server') and report['kills'].get(
            'worker') and report['kills'].get('till'), report['kills']


def test_checks_wait_for_a_server_started_again(server):
    """The checks' own requests (straight to trytond) wait while trytond is
    started again after another till's schedule killed it: five tries in
    2 s stopped the long run with `fetch failed` (refused) during a restart
    that took 14 s"""
    with FaultRun(server, terminals=['BXL1'], verbose=False) as run:
        process = server.process
        process.stop()
        restart = threading.Timer(5, process.start)
        restart.start()
        try:
            answer = run.command({'cmd': 'heartbeat', 'till': 'BXL1',
                    'direct': server.url})
        finally:
            restart.join()
    assert answer['server_time']
