"""The virtual card terminal: a real HTTP round trip per payment, approve, decline,
cancel and timeout, idempotent on the till's payment id."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ORIGIN, base_config, http

from iot_proxy.config import parse_config
from iot_proxy.errors import ConfigError

H = {"Origin": ORIGIN}


def start(tmp_path: Any, servers: Any, **terminal: Any) -> str:
    cfg = base_config(tmp_path, payment_terminals=[{"name": "card", "transport": "virtual",
                                                    "delay": 0.05, **terminal}])
    return servers.start(cfg).url + "/payment_terminals/card"


def pay(url: str, payment_id: str, amount: str = "12.50", **extra: Any) -> tuple[int, Any]:
    status, body, _ = http("POST", url + "/payments", {
        "payment_id": payment_id, "amount": amount, "currency": "EUR", **extra}, headers=H)
    return status, body


def test_approve_after_the_card_is_presented(tmp_path, servers):
    url = start(tmp_path, servers, outcome="approve")
    status, body = pay(url, "p-1", wait=5)
    assert status == 200, body
    payment = body["payment"]
    assert (payment["status"], payment["amount"], payment["currency"]) == (
        "approved", "12.50", "EUR")
    assert payment["auth_code"]
    # The same payment id again is the same payment, never a second charge
    status, again = pay(url, "p-1")
    assert (status, again["duplicate"], again["payment"]["auth_code"]) == (
        200, True, payment["auth_code"])
    status, conflict = pay(url, "p-1", amount="13.00")
    assert status == 409 and not conflict["ok"], conflict


def test_decline(tmp_path, servers):
    url = start(tmp_path, servers, outcome="decline")
    status, body = pay(url, "p-2", amount="-3.00")
    assert status == 202 and body["payment"]["status"] == "pending", body
    status, body, _ = http("GET", url + "/payments/p-2?wait=5", headers=H)
    assert (status, body["payment"]["status"]) == (200, "declined"), body
    assert body["payment"]["auth_code"] is None
    assert "declined" in body["message"]


def test_manual_outcome_waits_for_the_simulated_card(tmp_path, servers):
    url = start(tmp_path, servers, outcome="manual")
    status, body = pay(url, "p-3", wait=0.3)
    assert (status, body["payment"]["status"]) == (202, "pending"), body
    # one payment at a time on a terminal
    status, busy = pay(url, "p-4")
    assert status == 409 and busy["payment"]["payment_id"] == "p-3", busy
    _, terminal, _ = http("GET", url, headers=H)
    assert terminal["terminal"]["pending"] == "p-3"
    status, body, _ = http("POST", url + "/payments/p-3/simulate", {"outcome": "approved"},
                           headers=H)
    assert (status, body["payment"]["status"]) == (200, "approved"), body
    status, body, _ = http("POST", url + "/payments/p-3/simulate", {"outcome": "declined"},
                           headers=H)
    assert status == 409 and body["payment"]["status"] == "approved", body


def test_cancel_a_pending_payment(tmp_path, servers):
    url = start(tmp_path, servers, outcome="manual")
    pay(url, "p-5")
    status, body, _ = http("POST", url + "/payments/p-5/cancel", {}, headers=H)
    assert (status, body["payment"]["status"]) == (200, "cancelled"), body
    status, body, _ = http("POST", url + "/payments/p-5/cancel", {}, headers=H)
    assert status == 409 and body["payment"]["status"] == "cancelled", body
    # the terminal is free again
    status, body = pay(url, "p-6")
    assert status == 202, body


def test_no_card_in_time_is_a_timeout(tmp_path, servers):
    url = start(tmp_path, servers, outcome="manual", timeout=1)
    pay(url, "p-7")
    status, body, _ = http("GET", url + "/payments/p-7?wait=5", headers=H)
    assert (status, body["payment"]["status"]) == (200, "timeout"), body


@pytest.mark.parametrize("body, field", [
    ({"payment_id": "x", "amount": "0.00", "currency": "EUR"}, "amount"),
    ({"payment_id": "x", "amount": 12.5, "currency": "EUR"}, "amount"),
    ({"payment_id": "x", "amount": "1e3", "currency": "EUR"}, "amount"),
    ({"payment_id": "x", "amount": "1.00", "currency": "eur"}, "currency"),
    ({"payment_id": "bad id", "amount": "1.00", "currency": "EUR"}, "payment_id"),
    ({"payment_id": "x", "amount": "1.00", "currency": "EUR", "reference": "a\nb"},
     "reference"),
    ({"payment_id": "x", "amount": "1.00", "currency": "EUR", "wait": 99}, "wait"),
])
def test_malformed_payment_gets_400_and_starts_nothing(tmp_path, servers, body, field):
    url = start(tmp_path, servers, outcome="manual")
    status, answer, _ = http("POST", url + "/payments", body, headers=H)
    assert (status, answer["field"]) == (400, field), answer
    _, terminal, _ = http("GET", url, headers=H)
    assert terminal["terminal"]["pending"] is None


def test_unknown_terminal_and_payment_get_404(tmp_path, servers):
    url = start(tmp_path, servers)
    status, body, _ = http("GET", url.replace("/card", "/nope"), headers=H)
    assert status == 404 and "card" in body["message"], body
    status, body, _ = http("GET", url + "/payments/none", headers=H)
    assert status == 404, body


def test_payment_terminal_config_is_checked():
    with pytest.raises(ConfigError, match="transport"):
        parse_config({"payment_terminals": [{"name": "t", "transport": "serial"}]})
    with pytest.raises(ConfigError, match="outcome"):
        parse_config({"payment_terminals": [{"name": "t", "outcome": "maybe"}]})
    cfg = parse_config({"payment_terminals": [{"name": "t"}]})
    assert (cfg.payment_terminals[0].transport, cfg.payment_terminals[0].timeout) == (
        "virtual", 120.0)
