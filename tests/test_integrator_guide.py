"""docs/integrator-guide.md cannot drift from its worked example: every code
excerpt it shows is found, as it is, in the file of tests/addons/
retail_example it names, and every code block of the guide that is not a
shell command is such an excerpt."""
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUIDE = os.path.join(ROOT, 'docs', 'integrator-guide.md')
EXAMPLE = 'tests/addons/retail_example/'
BLOCK = re.compile(r'(?:<!-- excerpt: (?P<path>\S+) -->\n)?'
    r'```(?P<lang>\w*)\n(?P<code>.*?)```', re.S)


def blocks():
    with open(GUIDE, encoding='utf-8') as file:
        text = file.read()
    return [(m['path'], m['lang'], m['code']) for m in BLOCK.finditer(text)]


def excerpts():
    return [(path, code) for path, _, code in blocks() if path]


def test_guide_has_excerpts():
    "The guide shows the example's code: the hooks, views and tests"
    paths = {path for path, _ in excerpts()}
    assert len(excerpts()) >= 15
    assert {EXAMPLE + 'tryton.cfg', EXAMPLE + 'product.py',
        EXAMPLE + 'note.py', EXAMPLE + 'view/template_form.xml',
        EXAMPLE + 'tests/test_module.py'} <= paths


def test_every_code_block_is_checked():
    "A code block is an excerpt, or shell commands, or the layout tree"
    for path, lang, code in blocks():
        if path:
            continue
        assert lang in {'sh', ''}, code[:200]


@pytest.mark.parametrize('path,code', excerpts(),
    ids=[f'{p}:{c.splitlines()[0].strip()[:40]}' for p, c in excerpts()])
def test_excerpt_is_in_the_example(path, code):
    "The excerpt is in the file, verbatim"
    assert path.startswith(EXAMPLE), path
    with open(os.path.join(ROOT, path), encoding='utf-8') as file:
        source = file.read()
    assert code in source, f"{path} no longer holds:\n{code}"


def test_guide_is_linked():
    "The README and the sync protocol lead to the guide"
    for name in ['README.md', os.path.join('docs', 'sync-protocol.md')]:
        with open(os.path.join(ROOT, name), encoding='utf-8') as file:
            assert 'integrator-guide.md' in file.read(), name
