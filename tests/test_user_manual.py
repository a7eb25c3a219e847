"""docs/user-manual.md names only screenshots and menus that exist.

Every image the manual embeds must be a file of docs/screenshots, and
every menu path it writes in bold with "›" between the entries
(**Retail › Sync › Conflicts**) must be a menu of the back office: the
menus are resolved statically from the ``<menuitem>`` and ``ir.ui.menu``
records of our addons' XML files and of the installed trytond's (its
``ir``, ``res`` and modules), following each entry's parent, its name
being the menu's own or, when it has none, its action's. No database.
"""
import re
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

import trytond

ROOT = Path(__file__).resolve().parent.parent
MANUAL = ROOT / 'docs' / 'user-manual.md'
SCREENSHOTS = ROOT / 'docs' / 'screenshots'
SEPARATOR = '›'

IMAGE = re.compile(r'!\[[^\]]*\]\(([^)\s]+)\)')
BOLD = re.compile(r'\*\*(.+?)\*\*', re.DOTALL)
CODE = re.compile(r'`[^`]*`')


def _xml_files():
    "Yield (module, path) for every data file of trytond and our addons"
    base = Path(trytond.__file__).resolve().parent
    for sub in ('ir', 'res'):
        for path in sorted((base / sub).rglob('*.xml')):
            yield sub, path
    for module in sorted((base / 'modules').iterdir()):
        if module.is_dir():
            for path in sorted(module.glob('*.xml')):
                yield module.name, path
    for module in sorted((ROOT / 'addons').iterdir()):
        if (module / 'tryton.cfg').exists():
            for path in sorted(module.glob('*.xml')):
                yield module.name, path


def _full_id(module, ref):
    return ref if '.' in ref else '%s.%s' % (module, ref)


def menu_paths(files=None):
    """Return the set of menu paths as tuples of names

    files: an iterable of (module, path); by default every data file."""
    actions = {}  # full id: name
    menus = {}  # full id: {'name': ..., 'parent': ..., 'action': ...}
    for module, path in (files if files is not None else _xml_files()):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        if root.tag != 'tryton':
            continue
        for element in root.iter():
            if element.tag == 'menuitem':
                menu = menus.setdefault(
                    _full_id(module, element.get('id')), {})
                if element.get('active') in {'0', 'False'}:
                    menu['inactive'] = True
                for attr in ('name', 'parent', 'action'):
                    if element.get(attr):
                        value = element.get(attr)
                        if attr != 'name':
                            value = _full_id(module, value)
                        menu[attr] = value
            elif element.tag == 'record':
                model = element.get('model', '')
                full_id = _full_id(module, element.get('id', ''))
                fields = {f.get('name'): f for f in element.iter('field')}
                if model.startswith('ir.action') and 'name' in fields:
                    actions[full_id] = (fields['name'].text or '').strip()
                elif model == 'ir.ui.menu':
                    menu = menus.setdefault(full_id, {})
                    if 'name' in fields and fields['name'].text:
                        menu['name'] = fields['name'].text.strip()
                    if 'parent' in fields and fields['parent'].get('ref'):
                        menu['parent'] = _full_id(
                            module, fields['parent'].get('ref'))
                    if 'active' in fields:
                        menu['inactive'] = (
                            fields['active'].get('eval') in {'0', 'False'})

    def name(menu):
        return menu.get('name') or actions.get(menu.get('action'))

    def path(full_id, seen=()):
        menu = menus.get(full_id)
        if menu is None or full_id in seen or not name(menu):
            return None
        if menu.get('inactive'):
            return None
        if not menu.get('parent'):
            return (name(menu),)
        parent = path(menu['parent'], seen + (full_id,))
        return parent + (name(menu),) if parent else None

    paths = set()
    for full_id in menus:
        found = path(full_id)
        if found:
            paths.add(found)
    return paths


def named_menu_paths(text):
    """Return the menu paths written in bold with › in text

    A path may be wrapped over lines; code spans are left out."""
    paths = []
    for bold in BOLD.findall(CODE.sub('', text)):
        if SEPARATOR in bold:
            paths.append(tuple(
                    ' '.join(p.split()) for p in bold.split(SEPARATOR)))
    return paths


def named_images(text):
    return IMAGE.findall(text)


class UserManualTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.text = MANUAL.read_text(encoding='utf-8')
        cls.paths = menu_paths()

    def test_screenshots_exist(self):
        "Every image of the manual is a file of docs/screenshots"
        images = named_images(self.text)
        self.assertGreaterEqual(len(images), 20)
        missing = []
        for image in images:
            target = (MANUAL.parent / image).resolve()
            if (target.parent != SCREENSHOTS.resolve()
                    or not target.is_file()):
                missing.append(image)
        self.assertEqual(missing, [])

    def test_menu_paths_exist(self):
        "Every bold menu path of the manual is a menu of the back office"
        named = named_menu_paths(self.text)
        self.assertGreaterEqual(len(named), 30)
        unknown = sorted({
                    ' › '.join(p) for p in named if p not in self.paths})
        self.assertEqual(unknown, [])

    def test_known_paths_resolve(self):
        "The resolver finds menus of trytond and of our addons"
        for path in [
                ('Retail', 'Terminals'),
                ('Retail', 'Sync', 'Conflicts'),
                ('Retail', 'Configuration', 'Barcode Layouts'),
                ('Sales', 'Configuration', 'POS Payment Methods'),
                ('Administration', 'Users', 'Users'),
                ('Financial', 'Configuration', 'Templates',
                    'Create Chart of Accounts from Template'),
                ]:
            self.assertIn(path, self.paths)

    def test_wrong_paths_fail(self):
        "A wrong name, a wrong parent or a truncated path is not found"
        text = (
            '**Retail › Terminal** **Sales › Sync › Conflicts** '
            '**Sync › Conflicts** **Retail › Terminals › Devices** '
            '`*** COPY ***` **Lock** **Financial › Reporting › General\n'
            '  Ledgers**')
        named = named_menu_paths(text)
        self.assertEqual(len(named), 5)
        self.assertEqual(
            named[-1], ('Financial', 'Reporting', 'General Ledgers'))
        for path in named:
            self.assertNotIn(path, self.paths)

    def test_resolver_follows_parents_and_actions(self):
        "A menu named by its action, under a parent of another module"
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            first = Path(tmp, 'a.xml')
            first.write_text(
                '<tryton><data>'
                '<menuitem name="Top" id="menu_top"/>'
                '<menuitem name="Old" id="menu_gone" parent="menu_top"'
                ' active="0"/>'
                '</data></tryton>', encoding='utf-8')
            second = Path(tmp, 'b.xml')
            second.write_text(
                '<tryton><data>'
                '<record model="ir.action.act_window" id="act_thing">'
                '<field name="name">Things</field></record>'
                '<menuitem parent="a.menu_top" action="act_thing"'
                ' id="menu_thing"/>'
                '<menuitem parent="missing.menu" name="Orphan"'
                ' id="menu_orphan"/>'
                '</data></tryton>', encoding='utf-8')
            paths = menu_paths([('a', first), ('b', second)])
        self.assertEqual(paths, {('Top',), ('Top', 'Things')})

    def test_manual_linked_from_readme(self):
        readme = (ROOT / 'README.md').read_text(encoding='utf-8')
        self.assertTrue(
            '](docs/user-manual.md)' in readme,
            "README.md does not link docs/user-manual.md")
