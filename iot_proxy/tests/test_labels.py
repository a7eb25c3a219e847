"""Barcode labels: ESC/POS label jobs and ZPL passthrough to label printers."""

from __future__ import annotations

from conftest import base_config, http, network_printer

from iot_proxy.virtual import VirtualPrinter

LABELS = [{"name": "Organic apples 1kg", "price": "3.49", "lines": ["Origin: BE"],
           "barcode": {"type": "EAN13", "data": "5410000000019"}, "copies": 2}]


def test_labels_print_on_escpos_printer(tmp_path, servers, vprinter):
    server = servers.start(base_config(tmp_path, printers=[network_printer(vprinter)]))
    status, body, _ = http("POST", server.url + "/printers/receipt/jobs",
                           {"type": "label", "labels": LABELS, "wait": 10})
    assert status == 200 and body["status"] == "done", body
    job = vprinter.wait_for_jobs(1)[0]
    assert job.text.count("Organic apples 1kg") == 2
    assert "3.49" in job.decoded.styled(bold=True, size=(2, 2))
    assert job.decoded.find("barcode") == [{"cmd": "barcode", "type": "EAN13",
                                            "data": "5410000000019"}] * 2
    assert job.decoded.names().count("cut") == 2


def test_zpl_passes_through_unchanged_to_label_printer(tmp_path, servers):
    with VirtualPrinter() as zebra:
        server = servers.start(base_config(tmp_path, printers=[
            network_printer(zebra, "labels", language="zpl")]))
        zpl = "^XA^FO50,50^BCN,100,Y,N,N^FD12345678^FS^XZ"
        status, body, _ = http("POST", server.url + "/printers/labels/jobs",
                               {"type": "zpl", "zpl": zpl, "wait": 10})
        assert status == 200 and body["status"] == "done"
        assert zebra.wait_for_jobs(1)[0].raw == zpl.encode()
        # Structured labels become ZPL on a ZPL printer.
        status, body, _ = http("POST", server.url + "/printers/labels/jobs",
                               {"type": "label", "labels": LABELS, "wait": 10})
        assert status == 200
        zpl2 = zebra.wait_for_jobs(2)[1].raw.decode()
        assert zpl2.startswith("^XA") and zpl2.endswith("^XZ")
        assert "^FDOrganic apples 1kg^FS" in zpl2 and "^BEN" in zpl2 and "^PQ2" in zpl2
        # Receipts are refused on a ZPL printer, with the reason.
        status, body, _ = http("POST", server.url + "/printers/labels/jobs",
                               {"receipt": {"lines": [], "total": "1"}})
        assert status == 400 and "zpl" in body["message"]


def test_malformed_label_gets_400(tmp_path, servers, vprinter):
    server = servers.start(base_config(tmp_path, printers=[network_printer(vprinter)]))
    for labels, reason in (([], "non-empty"), ([{"price": "1"}], "labels[0].name"),
                           ([{"name": "x", "barcode": {"type": "EAN13", "data": "12"}}],
                            "not valid for EAN13")):
        status, body, _ = http("POST", server.url + "/printers/receipt/jobs",
                               {"type": "label", "labels": labels})
        assert status == 400 and reason in body["message"], body
