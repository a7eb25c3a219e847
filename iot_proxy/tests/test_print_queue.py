"""Print queue rules: nothing accepted is lost, duplicates print once, faults make jobs wait."""

from __future__ import annotations

import time

from conftest import base_config, http, network_printer, receipt, wait_until


def numbers(jobs) -> list[str]:
    """The receipt number of each printed job, in print order."""
    out = []
    for job in jobs:
        line = next(line for line in job.text.splitlines() if line.startswith("Receipt"))
        out.append(line.split()[-1])
    return out


def post(server, body, printer="receipt"):
    return http("POST", f"{server.url}/printers/{printer}/jobs", body)


def job_status(server, job_id):
    return http("GET", f"{server.url}/jobs/{job_id}")[1]["status"]


def test_receipt_prints_and_drawer_opens_on_virtual_printer(tmp_path, servers, vprinter):
    server = servers.start(base_config(
        tmp_path, printers=[network_printer(vprinter)],
        drawers=[{"name": "drawer", "printer": "receipt", "pin": 2}]))
    status, body, _ = post(server, {"job_id": "sale-1", "receipt": receipt("S-0001"),
                                    "wait": 10})
    assert status == 200, body
    assert body == {**body, "ok": True, "canRetry": False, "status": "done", "job_id": "sale-1"}
    assert body["message"] == "printed"
    job = vprinter.wait_for_jobs(1)[0]
    assert "Test Shop" in job.decoded.styled(bold=True)
    assert "Coffee" in job.text and "S-0001" in job.text
    assert job.decoded.find("barcode") == [{"cmd": "barcode", "type": "CODE128",
                                            "data": "S-0001"}]
    assert job.decoded.names()[-1] == "cut"
    status, body, _ = http("POST", server.url + "/drawers/drawer/open")
    assert status == 200 and body["ok"] is True and body["message"] == "drawer opened"
    kick = vprinter.wait_for_jobs(2)[1]
    assert kick.decoded.find("drawer") == [{"cmd": "drawer", "pin": 2, "on_ms": 100,
                                            "off_ms": 100}]
    status, body, _ = http("POST", server.url + "/drawers/drawer/open", {"pin": 5})
    assert status == 200
    assert vprinter.wait_for_jobs(3)[2].decoded.find("drawer")[0]["pin"] == 5


def test_same_job_id_twice_prints_once(tmp_path, servers, vprinter):
    server = servers.start(base_config(tmp_path, printers=[network_printer(vprinter)]))
    body = {"job_id": "sale-42", "receipt": receipt("S-0042")}
    status, first, _ = post(server, {**body, "wait": 10})
    assert status == 200 and first["status"] == "done"
    status, second, _ = post(server, body)
    assert status == 200 and second["duplicate"] is True and second["ok"] is True
    assert second["status"] == "done"
    status, conflict, _ = post(server, {"job_id": "sale-42", "receipt": receipt("S-9999")})
    assert status == 409 and conflict["ok"] is False
    time.sleep(0.5)
    assert numbers(vprinter.jobs) == ["S-0042"]


def test_printer_going_away_mid_queue_every_job_printed_once_in_order(
        tmp_path, servers, vprinter):
    server = servers.start(base_config(tmp_path, printers=[network_printer(vprinter)]))
    for i in range(3):
        assert post(server, {"job_id": f"j{i}", "receipt": receipt(f"R-{i}")})[0] == 202
    vprinter.wait_for_jobs(3)
    vprinter.stop()  # powered off / unplugged
    for i in range(3, 8):
        status, body, _ = post(server, {"job_id": f"j{i}", "receipt": receipt(f"R-{i}")})
        assert status == 202 and body["ok"] is True
    wait_until(lambda: job_status(server, "j3") == "waiting", what="j3 waiting")
    job = http("GET", server.url + "/jobs/j3")[1]
    assert "unreachable" in job["message"] and job["job"]["attempts"] >= 1
    printer = http("GET", server.url + "/printers/receipt")[1]["printer"]
    assert printer["state"] == "waiting" and printer["queue"] == 5 and printer["error"]
    assert http("GET", server.url + "/status")[0] == 200  # the service stays up
    vprinter.drop_next = 1  # and it loses power again in the middle of the next job
    vprinter.start()  # back on the same port
    vprinter.wait_for_jobs(8, timeout=20)
    time.sleep(0.5)
    assert numbers(vprinter.jobs) == [f"R-{i}" for i in range(8)]
    assert all(job_status(server, f"j{i}") == "done" for i in range(8))


def test_queue_survives_proxy_restart(tmp_path, servers, vprinter):
    cfg = base_config(tmp_path, printers=[network_printer(vprinter)])
    vprinter.stop()
    first = servers.start(cfg)
    for i in range(3):
        assert post(first, {"job_id": f"k{i}", "receipt": receipt(f"K-{i}")})[0] == 202
    servers.stop(first)
    vprinter.start()
    second = servers.start(cfg)
    vprinter.wait_for_jobs(3, timeout=20)
    time.sleep(0.3)
    assert numbers(vprinter.jobs) == ["K-0", "K-1", "K-2"]
    assert job_status(second, "k2") == "done"
    # Still remembered after the restart: sending k0 again does not print it again.
    status, body, _ = post(second, {"job_id": "k0", "receipt": receipt("K-0")})
    assert status == 200 and body["duplicate"] is True


def test_out_of_paper_job_waits_and_prints_when_paper_is_back(tmp_path, servers, vprinter):
    server = servers.start(base_config(tmp_path, printers=[network_printer(vprinter)]))
    vprinter.set_state(paper="out")
    status, body, _ = post(server, {"job_id": "p1", "receipt": receipt("P-1"), "wait": 10})
    assert status == 202 and body["ok"] is True and body["status"] == "waiting"
    assert "out of paper" in body["message"]
    printer = http("GET", server.url + "/printers/receipt")[1]["printer"]
    assert printer["paper"] == "out" and printer["connected"] is True
    assert vprinter.jobs == []
    vprinter.set_state(paper="near_end", cover_open=True)
    wait_until(lambda: "cover open" in http("GET", server.url + "/jobs/p1")[1]["message"],
               what="cover open reported")
    vprinter.set_state(cover_open=False)
    vprinter.wait_for_jobs(1)
    assert numbers(vprinter.jobs) == ["P-1"]
    wait_until(lambda: job_status(server, "p1") == "done")
    printer = http("GET", server.url + "/printers/receipt")[1]["printer"]
    assert printer["paper"] == "near_end"


def test_printer_status_is_read(tmp_path, servers, vprinter):
    server = servers.start(base_config(tmp_path, printers=[network_printer(vprinter)]))
    vprinter.set_state(online=True, paper="near_end")
    st = http("GET", server.url + "/printers/receipt?refresh=1")[1]["printer"]
    assert (st["online"], st["paper"], st["cover_open"]) == (True, "near_end", False)
    vprinter.stop()
    st = http("GET", server.url + "/printers/receipt?refresh=1")[1]["printer"]
    assert st["connected"] is False and "unreachable" in st["error"]


def test_drawer_kick_is_not_queued_when_printer_is_off(tmp_path, servers, vprinter):
    server = servers.start(base_config(
        tmp_path, printers=[network_printer(vprinter)],
        drawers=[{"name": "drawer", "printer": "receipt", "sensor": "open_high"}]))
    vprinter.stop()
    status, body, _ = http("POST", server.url + "/drawers/drawer/open")
    assert status == 503 and body["ok"] is False and body["canRetry"] is True
    vprinter.start()
    time.sleep(0.5)
    assert vprinter.jobs == []  # never kicked late
    vprinter.set_state(drawer_pin3_high=True)
    status, body, _ = http("GET", server.url + "/drawers/drawer")
    assert status == 200 and body["open"] is True and body["supported"] is True
    vprinter.set_state(drawer_pin3_high=False)
    assert http("GET", server.url + "/drawers/drawer")[1]["open"] is False


def test_job_status_is_pushed_over_websocket(tmp_path, servers, vprinter, ws_clients):
    server = servers.start(base_config(tmp_path, printers=[network_printer(vprinter)]))
    ws = ws_clients(server.url.replace("http", "ws") + "/ws")
    ws.next(lambda m: m["type"] == "hello")
    vprinter.stop()
    post(server, {"job_id": "w1", "receipt": receipt("W-1")})
    ws.next(lambda m: m["type"] == "job" and m["status"] == "queued")
    waiting = ws.next(lambda m: m["type"] == "job" and m["status"] == "waiting")
    assert waiting["job_id"] == "w1" and "unreachable" in waiting["message"]
    vprinter.start()
    done = ws.next(lambda m: m["type"] == "job" and m["status"] == "done")
    assert done["job_id"] == "w1" and done["printer"] == "receipt"
    ws.conn.send('{"type": "ping"}')
    ws.next(lambda m: m["type"] == "pong")


def test_cancel_a_waiting_job(tmp_path, servers, vprinter):
    server = servers.start(base_config(tmp_path, printers=[network_printer(vprinter)]))
    vprinter.stop()
    post(server, {"job_id": "c1", "receipt": receipt("C-1")})
    status, body, _ = http("DELETE", server.url + "/jobs/c1")
    assert status == 200 and body["status"] == "cancelled"
    post(server, {"job_id": "c2", "receipt": receipt("C-2")})
    vprinter.start()
    vprinter.wait_for_jobs(1)
    time.sleep(0.3)
    assert numbers(vprinter.jobs) == ["C-2"]
    assert http("DELETE", server.url + "/jobs/c2")[0] == 409
    jobs = http("GET", server.url + "/jobs?printer=receipt")[1]["jobs"]
    assert [j["job_id"] for j in jobs] == ["c2", "c1"]


def test_raw_escpos_passthrough(tmp_path, servers, vprinter):
    import base64

    server = servers.start(base_config(tmp_path, printers=[network_printer(vprinter)]))
    raw = b"\x1b@\x1bE\x01RAW BOLD\x1bE\x00\nplain\n\x1dV\x00"
    status, body, _ = post(server, {"type": "raw", "wait": 10,
                                    "data_base64": base64.b64encode(raw).decode()})
    assert status == 200 and body["status"] == "done"
    job = vprinter.wait_for_jobs(1)[0]
    assert job.raw == raw + b"\x10\x04\x01"  # byte-identical, then the delivery check
    assert job.decoded.styled(bold=True) == "RAW BOLD"


def test_auto_code_page_receipt_reaches_the_printer_readable(tmp_path, servers, vprinter):
    """Through the real transport: the virtual printer decodes each code page it is
    told about (ESC t), Hebrew in visual order, Chinese as an image line"""
    server = servers.start(base_config(tmp_path, printers=[network_printer(
        vprinter, codepage="AUTO")]))
    body = {"job_id": "auto-1", "wait": 10, "receipt": receipt("A-1", lines=[
        {"name": "Café crème", "total": "3.00"}, {"name": "咖啡", "total": "3.50"},
        {"name": "שלום", "total": "1.00"}, {"name": "Ωμέγα", "total": "2.00"}],
        total="9.50")}
    status, answer, _ = post(server, body)
    assert status == 200 and answer["status"] == "done", answer
    job = vprinter.wait_for_jobs(1)[0]
    for text in ("Café crème", "םולש", "Ωμέγα", "A-1"):
        assert text in job.text, text
    assert "咖啡" not in job.text and len(job.decoded.find("image")) == 1
    assert all(len(line) <= 48 for line in job.text.splitlines())


def test_printer_lost_mid_job_in_hold_mode_holds_it_and_goes_on(tmp_path, servers, vprinter):
    """The printer loses power in the middle of a job: with interrupted = "hold" the
    job waits for the cashier (it may be half printed); the next jobs print; a held
    job can be cancelled"""
    server = servers.start(base_config(tmp_path, printers=[network_printer(vprinter)],
                                       queue={"interrupted": "hold"}))
    vprinter.drop_next = 1
    post(server, {"job_id": "h1", "receipt": receipt("H-1")})
    wait_until(lambda: job_status(server, "h1") == "held", what="h1 held")
    job = http("GET", server.url + "/jobs/h1")[1]
    assert "interrupted" in job["message"] and job["job"]["interrupted"] is True
    assert http("GET", server.url + "/printers/receipt")[1]["printer"]["held"] == 1
    status, body, _ = post(server, {"job_id": "h2", "receipt": receipt("H-2"), "wait": 10})
    assert status == 200 and body["status"] == "done"
    assert numbers(vprinter.wait_for_jobs(1)) == ["H-2"]
    status, body, _ = http("DELETE", server.url + "/jobs/h1")
    assert status == 200 and body["status"] == "cancelled"
    time.sleep(0.5)
    assert numbers(vprinter.jobs) == ["H-2"]


def test_interrupted_setting_is_checked():
    import pytest

    from iot_proxy.config import parse_config
    from iot_proxy.errors import ConfigError

    with pytest.raises(ConfigError, match="interrupted must be"):
        parse_config({"queue": {"interrupted": "twice"}})
