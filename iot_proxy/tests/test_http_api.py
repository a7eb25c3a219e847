"""HTTP API rules: loopback bind, origin allow-list (403), pairing token, 400 reasons."""

from __future__ import annotations

import pytest
import websocket
from conftest import ORIGIN, base_config, http, network_printer, receipt

from iot_proxy.config import DEFAULT_HOST, DEFAULT_PORT, parse_config


@pytest.fixture
def server(tmp_path, servers, vprinter):
    cfg = base_config(tmp_path, printers=[network_printer(vprinter)],
                      drawers=[{"name": "drawer", "printer": "receipt"}],
                      displays=[{"name": "pole", "transport": "dummy"}],
                      scanners=[{"name": "sim", "transport": "dummy"}])
    return servers.start(cfg)


def test_listens_on_loopback_by_default_on_8070():
    cfg = parse_config({})
    assert (cfg.server.host, cfg.server.port) == (DEFAULT_HOST, DEFAULT_PORT) == (
        "127.0.0.1", 8070)
    assert cfg.server.allowed_origins == []


def test_unknown_origin_gets_403(server):
    status, body, _ = http("GET", server.url + "/status", headers={"Origin": "https://evil.test"})
    assert status == 403 and body["ok"] is False and "evil.test" in body["message"]
    status, body, _ = http("POST", server.url + "/printers/receipt/jobs",
                           {"receipt": receipt()}, headers={"Origin": "https://evil.test"})
    assert status == 403
    with pytest.raises(websocket.WebSocketBadStatusException) as err:
        websocket.create_connection(server.url.replace("http", "ws") + "/ws",
                                    origin="https://evil.test", timeout=5)
    assert err.value.status_code == 403


def test_allowed_origin_gets_cors_headers_and_preflight(server):
    status, body, headers = http("GET", server.url + "/status", headers={"Origin": ORIGIN})
    assert status == 200 and body["ok"] is True
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    status, _, headers = http("OPTIONS", server.url + "/printers/receipt/jobs", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
        "Access-Control-Request-Private-Network": "true"})
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"] == "content-type"
    assert headers["Access-Control-Allow-Private-Network"] == "true"
    assert "*" not in headers["Access-Control-Allow-Origin"]


def test_foreign_host_header_is_refused(server):
    # DNS rebinding: a page on evil.test resolved to 127.0.0.1 sends Host: evil.test.
    status, body, _ = http("GET", server.url + "/status", headers={"Host": "evil.test:8070"})
    assert status == 403 and "host" in body["message"]


def test_pairing_token_required_when_not_trusted(tmp_path, servers, vprinter):
    cfg = base_config(tmp_path, printers=[network_printer(vprinter)], server={
        "pairing_token": "s3cret-token", "require_token_on_loopback": True})
    server = servers.start(cfg)
    status, body, _ = http("GET", server.url + "/status")
    assert status == 401 and "token" in body["message"]
    status, _, _ = http("GET", server.url + "/status", headers={"Authorization": "Bearer nope"})
    assert status == 401
    status, _, _ = http("GET", server.url + "/status",
                        headers={"Authorization": "Bearer s3cret-token"})
    assert status == 200
    status, _, _ = http("GET", server.url + "/status", headers={"X-Pairing-Token": "s3cret-token"})
    assert status == 200
    ws = websocket.create_connection(server.url.replace("http", "ws") + "/ws?token=s3cret-token",
                                     origin=ORIGIN, timeout=5)
    ws.close()


def test_non_loopback_host_creates_a_pairing_token(tmp_path):
    from iot_proxy.server import load_token

    cfg = parse_config(base_config(tmp_path, server={"host": "192.0.2.10"}))
    token = load_token(cfg, create=True)
    assert len(token) >= 24
    assert load_token(cfg) == token
    assert (tmp_path / "data" / "pairing-token").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("raw, reason", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"type": "fax", "receipt": {}}', "type must be one of"),
    (b'{"receipt": {"lines": [], "total": 5}}', "decimal string"),
    (b'{"receipt": {"lines": []}}', "receipt.total is required"),
    (b'{"job_id": "bad id with spaces", "receipt": {"lines": [], "total": "1"}}', "job_id"),
    (b'{"type": "raw", "data_base64": "%%%"}', "base64"),
    (b'{"type": "zpl", "zpl": "^XA^XZ"}', "ZPL needs a printer"),
    (b'{"receipt": {"lines": [], "total": "1"}, "wait": 99}', "wait"),
    (b'{"receipt": {"lines": [], "total": "1"}, "colour": "red"}', "unknown field"),
])
def test_malformed_request_gets_400_with_reason_and_changes_nothing(server, raw, reason):
    before = server.proxy.store.count()
    status, body, _ = http("POST", server.url + "/printers/receipt/jobs", raw=raw)
    assert status == 400, body
    assert body["ok"] is False and body["canRetry"] is False
    assert reason in body["message"]
    assert server.proxy.store.count() == before


def test_unknown_device_and_route_get_json_404(server):
    status, body, _ = http("POST", server.url + "/printers/nope/jobs", {"receipt": receipt()})
    assert status == 404 and "unknown printer 'nope'" in body["message"]
    assert "receipt" in body["message"]
    status, body, _ = http("GET", server.url + "/no/such/thing")
    assert status == 404 and body["ok"] is False
    status, body, _ = http("POST", server.url + "/drawers/drawer/open", {"pin": 3})
    assert status == 400 and "pin" in body["message"]


def test_status_and_devices_list_every_kind(server):
    status, body, _ = http("GET", server.url + "/status")
    assert status == 200
    assert set(body) >= {"printers", "drawers", "scanners", "displays", "queue", "version"}
    status, body, _ = http("GET", server.url + "/devices")
    kinds = {(d["kind"], d["name"]) for d in body["devices"]}
    assert kinds == {("printer", "receipt"), ("drawer", "drawer"), ("display", "pole"),
                     ("scanner", "sim")}


def test_dummy_display_and_scanner(server, ws_clients):
    ws = ws_clients(server.url.replace("http", "ws") + "/ws")
    hello = ws.next(lambda m: m["type"] == "hello")
    assert "sim" in hello["scanners"]
    status, body, _ = http("POST", server.url + "/scanners/sim/scan", {"data": "4006381333931"})
    assert status == 200
    assert ws.next(lambda m: m["type"] == "scan") ["data"] == "4006381333931"
    status, body, _ = http("POST", server.url + "/displays/pole",
                           {"kind": "total", "total": "12.50"})
    assert status == 200 and body["lines"] == ["TOTAL".ljust(20), "12.50".rjust(20)]
    status, body, _ = http("POST", server.url + "/displays/pole", {"kind": "total",
                                                                   "total": 12.5})
    assert status == 400 and "decimal string" in body["message"]


def _nested(depth: int) -> bytes:
    return b'{"receipt": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("raw, reason", [
    (_nested(100_000), "nested deeper than"),
    (b'{"receipt": {"lines": [], "total": "1", "x": ' + b"{\"a\": " * 5000 + b"1"
     + b"}" * 5000 + b"}}", "nested deeper than"),
    (b'{"wait": NaN, "receipt": {"lines": [], "total": "1"}}', "wait"),
    (b'{"wait": 1e999, "receipt": {"lines": [], "total": "1"}}', "wait"),
    (b'\xff\xfe{"receipt": 1}', "not valid JSON"),
    (b'{"receipt": {"lines": [{"name": "x", "quantity": "999999999999999", '
     b'"unit_price": "999999999999999.99999999"}], "total": "1"}}', None),
])
def test_every_malformed_body_gets_400_never_500(server, raw, reason):
    """Deep nesting, NaN, overflowing numbers, bad bytes: 400 with the JSON error
    (or accepted when valid), never a 5xx, on every endpoint that takes a body"""
    for path in ("/printers/receipt/jobs", "/displays/pole", "/drawers/drawer/open",
                 "/scanners/sim/scan"):
        status, body, _ = http("POST", server.url + path, raw=raw)
        assert status < 500, (path, status, body)
        assert isinstance(body, dict) and body["ok"] in (True, False), (path, body)
        if reason is not None:
            assert status == 400, (path, body)
            if path.endswith("/jobs") or "JSON" in reason or "nested" in reason:
                assert reason in body["message"], (path, body)


def test_oversized_body_gets_413_and_the_item_limit_400(server):
    status, body, _ = http("POST", server.url + "/printers/receipt/jobs",
                           raw=b'{"pad": "' + b"x" * (9 * 1024 * 1024) + b'"}')
    assert status == 413 and body["ok"] is False
    lines = [{"name": f"Item {i}", "total": "1.00"} for i in range(1001)]
    status, body, _ = http("POST", server.url + "/printers/receipt/jobs",
                           {"receipt": {"lines": lines, "total": "1001.00"}})
    assert status == 400 and "more than 1000 items" in body["message"]
    assert body["field"] == "receipt.lines"
    status, body, _ = http("POST", server.url + "/printers/receipt/jobs",
                           {"receipt": {"lines": lines[:1000], "total": "1000.00"}})
    assert status == 202 and body["ok"] is True


def test_random_bodies_never_get_a_5xx(server):
    """A seeded fuzzer mutating a valid job: every answer is JSON and below 500"""
    import json
    import random

    rng = random.Random(20261204)
    samples = [None, True, 0, -1, 10**30, 1.5, float("inf"), "", "x" * 300, "12.50",
               "-0", "1e5", "٣", [], {}, [1, "a"], {"a": {"b": []}}]
    base = {"job_id": "fuzz", "receipt": receipt()}

    def mutate(node, depth=0):
        if isinstance(node, dict) and node and rng.random() < 0.7:
            key = rng.choice(list(node))
            node[key] = mutate(node[key], depth + 1) if rng.random() < 0.6 else rng.choice(
                samples)
        elif isinstance(node, list) and node and rng.random() < 0.7:
            i = rng.randrange(len(node))
            node[i] = mutate(node[i], depth + 1)
        else:
            return rng.choice(samples)
        return node

    codes = set()
    for i in range(300):
        body = mutate(json.loads(json.dumps(base)))
        if isinstance(body, dict):
            body["job_id"] = f"fuzz-{i}"
        raw = json.dumps(body, allow_nan=True).encode()
        status, answer, _ = http("POST", server.url + "/printers/receipt/jobs", raw=raw)
        codes.add(status)
        assert status < 500 and isinstance(answer, dict), (raw[:300], status, answer)
    assert 400 in codes
