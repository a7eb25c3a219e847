"""A TCP fault proxy between tills and trytond, on the loopback.

Tills talk HTTP/1.1 to the proxy; the proxy reads each request whole,
numbers it (0, 1, 2, ... in the order they arrive), forwards it to trytond
on a connection of its own and hands the answer back, one request per
client connection (the answer says `Connection: close`).  A *schedule*
says which requests get a fault, by their number:

- `cut_request`: half of the request is sent, then both connections are
  closed (the server never sees a whole request: nothing is applied);
- `drop_answer`: the request is forwarded, the whole answer read (the server
  committed), and the till's connection closed without a byte of it;
- `cut_answer`: half of the answer is sent, then the connection is closed;
- `delay`: the request is held `ms` milliseconds before it is forwarded;
- `duplicate`: the request is sent twice at once, on two connections (the
  till gets the first answer): two pushes of the same operations race;
- `reorder`: the request is held until another request of the till has
  been answered (or `ms` milliseconds), so two requests of the till (two
  tabs, or a request cut meanwhile) reach the server in the other order
  (for one engine waiting on its request, a delay); and it is sent once
  more after the next answered request (at most 2 s later), its answer
  thrown away (an old push arriving after newer ones);
- `kill_server`: the request is forwarded and, `ms` milliseconds later
  (often while the server works on it), trytond is killed with SIGKILL and
  started again; the till's connection is closed;
- `kill_worker`: the request is forwarded and answered, and `ms`
  milliseconds later (while the worker posts what it recorded) the queue
  worker (trytond-worker) is killed with SIGKILL and started again.

A schedule is made from a seed (`Schedule.generate`), and printed with it
(`str(schedule)`), so a failure replays with the same seed."""
import asyncio
import random
import sys
import threading

KINDS = ('cut_request', 'drop_answer', 'cut_answer', 'delay', 'duplicate',
    'reorder', 'kill_server', 'kill_worker')
# The faults of a schedule by default, and how often each is drawn
WEIGHTS = {
    'cut_request': 3, 'drop_answer': 4, 'cut_answer': 2, 'delay': 3,
    'duplicate': 3, 'reorder': 2, 'kill_server': 0, 'kill_worker': 0,
    }


class Fault:

    def __init__(self, index, kind, ms=0):
        assert kind in KINDS, kind
        self.index = index
        self.kind = kind
        self.ms = ms

    def __repr__(self):
        ms = f' {self.ms}ms' if self.ms else ''
        return f'#{self.index} {self.kind}{ms}'


class Schedule:
    "The faults of a run, by request number"

    def __init__(self, seed, faults=(), only=None):
        self.seed = seed
        self.faults = {f.index: f for f in faults}
        # numbered and faulted: the requests whose request line holds
        # `only` (e.g. b'/push'); every request when None
        self.only = only

    def applies(self, request):
        return self.only is None or self.only in request.split(b'\r\n', 1)[0]

    @classmethod
    def generate(cls, seed, requests=40, rate=0.3, weights=None, kills=()):
        """Faults for the first `requests` requests, each request getting
        one with probability `rate`, of a kind drawn by `weights`; and one
        fault of each kind of `kills` (`kill_server`, `kill_worker`) on one
        of the first four requests"""
        weights = dict(WEIGHTS, **(weights or {}))
        kinds = [k for k in KINDS if weights.get(k)]
        rng = random.Random(seed)
        faults = []
        for index in range(requests):
            if rng.random() >= rate:
                continue
            kind = rng.choices(kinds, [weights[k] for k in kinds])[0]
            ms = 0
            if kind in {'delay', 'reorder'}:
                ms = rng.randrange(20, 300)
            elif kind in {'kill_server', 'kill_worker'}:
                ms = rng.randrange(0, 60)
            faults.append(Fault(index, kind, ms))
        for kind in kills:
            faults.append(Fault(rng.randrange(0, 4), kind,
                    rng.randrange(0, 60)))
        return cls(seed, faults)

    def get(self, index):
        return self.faults.get(index)

    def __str__(self):
        listed = ', '.join(repr(f) for f in self.faults.values()) or 'none'
        only = f' (requests to {self.only.decode()})' if self.only else ''
        return f'seed={self.seed} faults{only}: {listed}'


class Upstream(Exception):
    "The server could not be reached or closed without answering"


async def read_request(reader):
    "One HTTP/1.1 request as bytes, or None at the end of the connection"
    try:
        head = await reader.readuntil(b'\r\n\r\n')
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = 0
    for line in head.split(b'\r\n')[1:]:
        name, _, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b''
    return with_header(head, b'Connection', b'close') + body


def with_header(head, name, value):
    "The head (ending with a blank line) with the header set to the value"
    lines = [line for line in head.split(b'\r\n')[:-2]
        if line.split(b':', 1)[0].strip().lower() != name.lower()]
    lines.append(name + b': ' + value)
    return b'\r\n'.join(lines) + b'\r\n\r\n'


class FaultProxy:
    """The proxy, in a thread of its own:

        proxy = FaultProxy(server_port, kill_server=..., kill_worker=...)
        proxy.start()                  # proxy.port, proxy.url
        proxy.use(Schedule.generate(seed))
        ...                            # proxy.injected: {kind: count}
        proxy.stop()

    `kill_server` and `kill_worker` are called (in a thread) for the faults
    of those kinds; they return once what they killed runs again."""

    def __init__(self, upstream_port, kill_server=None, kill_worker=None,
            host='127.0.0.1'):
        self.upstream_port = upstream_port
        self.host = host
        self.kill_server = kill_server
        self.kill_worker = kill_worker
        self.schedule = Schedule(None)
        self.count = 0
        self.injected = {}
        self.log = []
        self.loop = None
        self.thread = None
        self.port = None
        self._next = None
        self._killing = None

    @property
    def url(self):
        return f'http://{self.host}:{self.port}/'

    def use(self, schedule):
        "Number requests from 0 again, with the faults of this schedule"
        def reset():
            self.schedule = schedule
            self.count = 0
            self.log = []
        self._call(reset)

    def _call(self, function):
        done = threading.Event()

        def run():
            function()
            done.set()
        self.loop.call_soon_threadsafe(run)
        done.wait()

    def start(self):
        ready = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(asyncio.start_server(
                    self._client, self.host, 0))
            self.port = self.server.sockets[0].getsockname()[1]
            self._next = asyncio.Event()
            ready.set()
            self.loop.run_forever()
            self.loop.close()
        self.thread = threading.Thread(target=run, daemon=True,
            name='fault-proxy')
        self.thread.start()
        ready.wait()
        return self

    def stop(self):
        if self.loop:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop
                ).result(30)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)
            self.loop = None

    async def _shutdown(self):
        "Stop listening, end the connections and faults still running"
        self.server.close()
        tasks = [t for t in asyncio.all_tasks()
            if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.server.wait_closed()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    async def _forward(self, request, part=None):
        "Send the request (or its first `part` bytes); the whole answer"
        try:
            reader, writer = await asyncio.open_connection(
                self.host, self.upstream_port)
        except OSError as exc:
            raise Upstream(str(exc))
        try:
            writer.write(request if part is None else request[:part])
            await writer.drain()
            if part is not None:
                return None
            answer = await reader.read()
        except ConnectionError as exc:
            raise Upstream(str(exc))
        finally:
            writer.close()
        if not answer:
            raise Upstream("the server closed the connection")
        return answer

    async def _kill(self, kind, delay):
        await asyncio.sleep(delay / 1000)
        action = self.kill_server if kind == 'kill_server' else \
            self.kill_worker
        if action:
            await self.loop.run_in_executor(None, action)

    async def _client(self, reader, writer):
        try:
            request = await read_request(reader)
            if request is None:
                return
            fault = None
            if self.schedule.applies(request):
                index = self.count
                self.count += 1
                fault = self.schedule.get(index)
            else:
                index = None
            if self._killing and not self._killing.done():
                # the server is being started again: refused
                self.log.append((index, 'refused'))
                return
            answer = await self._serve(request, fault)
            # (the next request is waited for by a reordered one)
            self._next.set()
            self._next = asyncio.Event()
            if answer is not None:
                head, sep, body = answer.partition(b'\r\n\r\n')
                writer.write(with_header(head + sep, b'Connection', b'close')
                    + body)
                await writer.drain()
        except Upstream as exc:
            # the till sees its connection closed: say why
            self.log.append((index, f'upstream: {exc}'))
            print(f"fault proxy :{self.port}: request {index}: {exc}",
                file=sys.stderr, flush=True)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _serve(self, request, fault):
        if fault is None:
            return await self._forward(request)
        kind = fault.kind
        self.injected[kind] = self.injected.get(kind, 0) + 1
        self.log.append((fault.index, kind))
        if kind == 'cut_request':
            await self._forward(request, part=max(1, len(request) // 2))
            return None
        if kind == 'drop_answer':
            await self._forward(request)
            return None
        if kind == 'cut_answer':
            answer = await self._forward(request)
            return answer[:len(answer) // 2]
        if kind == 'delay':
            await asyncio.sleep(fault.ms / 1000)
            return await self._forward(request)
        if kind == 'duplicate':
            answers = await asyncio.gather(self._forward(request),
                self._forward(request), return_exceptions=True)
            for answer in answers:
                if not isinstance(answer, BaseException):
                    return answer
            raise Upstream("both copies failed")
        if kind == 'reorder':
            waiting = self._next
            try:
                await asyncio.wait_for(waiting.wait(), fault.ms / 1000)
            except asyncio.TimeoutError:
                pass
            answer = await self._forward(request)
            self.loop.create_task(self._replay_later(request))
            return answer
        if kind == 'kill_server':
            self._killing = self.loop.create_task(self._kill(kind, fault.ms))
            try:
                await self._forward(request)
            finally:
                await asyncio.shield(self._killing)
            return None
        if kind == 'kill_worker':
            answer = await self._forward(request)
            # the posting of what the request recorded starts now
            self._killing = self.loop.create_task(self._kill(kind, fault.ms))
            return answer
        raise ValueError(kind)

    async def _replay_later(self, request):
        waiting = self._next
        try:
            await asyncio.wait_for(waiting.wait(), 2)
        except asyncio.TimeoutError:
            pass
        try:
            await self._forward(request)
        except Upstream:
            pass
