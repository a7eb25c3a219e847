"""The worked example of docs/journal.md is what the server's code makes
of it (the till's side is checked against the same text by
pos_offline_client/test/journal.test.js): the bytes hashed and the hashes
cannot drift from the documented format."""
import json
import pathlib

from trytond.modules.retail_sync.journal import (
    GENESIS, canonical, entry, entry_hash)

DOC = pathlib.Path(__file__).resolve().parent.parent / 'docs' / 'journal.md'

SALE = {
    'uuid': '3f1c9a52-7d1e-4c0b-9a43-0e6f5b2d8c11',
    'type': 'sale',
    'terminal': 4,
    'sequence': 57,
    'client_time': '2026-11-21T10:15:02+01:00',
    'employee': 7,
    'payload': {
        'receipt_number': 42,
        'session': '9b2e4d6a-1c3f-4e5a-8b7d-2f0a6c9e1d34',
        'total': '10.20',
        'lines': [
            {'product': 101, 'quantity': '2', 'unit_price': '4.5000',
                'price': '4.5000', 'discount': None, 'lot': None},
            {'product': 205, 'quantity': '1', 'unit_price': '1.2000',
                'price': '1.2000', 'discount': None, 'lot': None},
            ],
        'payments': [{'method': 1, 'amount': '10.20'}],
        },
    }
VOID = {
    'uuid': 'c7d0e8b4-5a61-4f2e-b3c9-81d4a7e6f025',
    'type': 'void',
    'terminal': 4,
    'sequence': 58,
    'client_time': '2026-11-21T10:16:40+01:00',
    'employee': 7,
    'payload': {'receipt_number': 43, 'reason': 'Client parti — erreur'},
    }


def example():
    "The markdown of the worked example"
    out = []
    previous = GENESIS
    for title, op in [("The first entry of the terminal, a sale", SALE),
            ("The next entry, a void", VOID)]:
        digest = entry_hash(op, previous)
        pushed = dict(op, journal={'previous': previous, 'hash': digest})
        data = canonical(entry(op, previous))
        out.append(f"### {title}\n\n"
            "The operation as the till pushes it:\n\n"
            "```json\n" + json.dumps(pushed, indent=2, ensure_ascii=False)
            + "\n```\n\n"
            f"The canonical entry ({len(data)} bytes of UTF-8):\n\n"
            "```text\n" + data.decode('utf-8') + "\n```\n\n"
            f"Its SHA-256: `{digest}`\n")
        previous = digest
    return '\n'.join(out)


def test_worked_example_is_the_servers():
    text = DOC.read_text(encoding='utf-8')
    begin = '<!-- example: begin -->\n'
    end = '<!-- example: end -->'
    assert begin in text and end in text
    documented = text.split(begin, 1)[1].split(end, 1)[0]
    assert documented == example() + "\n", (
        "docs/journal.md's worked example differs from what the server "
        "computes; the expected text is:\n" + example())


if __name__ == '__main__':
    print(example())
