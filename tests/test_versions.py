"""Each package of the repository states one version: an addon's
tryton.cfg, its pyproject.toml and the top entry of its CHANGELOG agree,
and so do the hardware proxy's package version and its CHANGELOG."""
import configparser
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDONS = sorted(name for name in os.listdir(os.path.join(ROOT, 'addons'))
    if os.path.isfile(os.path.join(ROOT, 'addons', name, 'tryton.cfg')))
# "Version 8.0.1 - unreleased" or "Version 8.0.0 - 2026-11-21"
ENTRY = re.compile(
    r'^Version (\d+\.\d+\.\d+) - (unreleased|\d{4}-\d{2}-\d{2})\n-+\n',
    re.M)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip('tomli')


def changelog_entries(path):
    with open(path, encoding='utf-8') as file:
        text = file.read()
    entries = ENTRY.findall(text)
    assert entries and text.startswith('Version '), (
        f"{path} starts with its newest entry, 'Version X.Y.Z - DATE'")
    return entries


def pyproject_version(directory):
    with open(os.path.join(directory, 'pyproject.toml'), 'rb') as file:
        return tomllib.load(file)['project'].get('version')


def check_entries(path, entries):
    "Newest first, one entry per version, only the newest unreleased"
    versions = [tuple(map(int, v.split('.'))) for v, _ in entries]
    assert versions == sorted(set(versions), reverse=True), path
    assert all(date != 'unreleased' for _, date in entries[1:]), path
    dates = [date for _, date in entries if date != 'unreleased']
    assert dates == sorted(dates, reverse=True), path


def test_addons_found():
    assert {'retail', 'retail_sync'} <= set(ADDONS)


@pytest.mark.parametrize('addon', ADDONS)
def test_addon_versions_agree(addon):
    directory = os.path.join(ROOT, 'addons', addon)
    config = configparser.ConfigParser()
    config.read(os.path.join(directory, 'tryton.cfg'))
    cfg = config.get('tryton', 'version')
    entries = changelog_entries(os.path.join(directory, 'CHANGELOG'))
    check_entries(addon, entries)
    assert (cfg, pyproject_version(directory), entries[0][0]) == (
        (cfg,) * 3), f"{addon}: tryton.cfg, pyproject.toml and CHANGELOG"
    # The Tryton series the addon belongs to
    assert cfg.startswith('8.0.'), cfg


def test_iot_proxy_version_agrees():
    directory = os.path.join(ROOT, 'iot_proxy')
    # One place states it: the package; pyproject.toml reads it from there
    assert pyproject_version(directory) is None
    with open(os.path.join(directory, 'pyproject.toml'), 'rb') as file:
        project = tomllib.load(file)
    assert project['project']['dynamic'] == ['version']
    assert project['tool']['setuptools']['dynamic']['version'] == {
        'attr': 'iot_proxy.__version__'}
    with open(os.path.join(directory, 'src', 'iot_proxy', '__init__.py'),
            encoding='utf-8') as file:
        version, = re.findall(
            r'^__version__ = "([^"]+)"$', file.read(), re.M)
    entries = changelog_entries(os.path.join(directory, 'CHANGELOG'))
    check_entries('iot_proxy', entries)
    assert version == entries[0][0]
