# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""No input makes the sync API fail: every bad body, request and operation
is refused with a 4xx or rejected one by one, and nothing is written for
it (docs/sync-protocol.md § Limits)"""
import gzip
import json
import resource
import time
import unittest
import zlib
from unittest import mock

from trytond.modules.company.tests import set_company
from trytond.modules.retail_sync import device as device_module
from trytond.modules.retail_sync.tests.tools import (
    Api, committed, operation, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase, activate_module, drop_db

BIG = 10 ** 30


def counts():
    "The number of sales, operations and stock moves in the database"
    def count():
        pool = Pool()
        return tuple(len(pool.get(name).search([]))
            for name in ['sale.point.sale', 'retail.sync.operation',
                'stock.move'])
    return committed(count)


class ValidationTestCase(TestCase):
    "Test the sync API's bounds"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_sync'])
        cls.shop = committed(setup_shop)

        def second():
            Company = Pool().get('company.company')
            with set_company(Company(cls.shop.company)):
                return setup_shop(code='S2', prefix='S2A',
                    company=Company(cls.shop.company))
        cls.shop2 = committed(second)

        def enroll():
            pool = Pool()
            Device = pool.get('retail.sync.device')
            Terminal = pool.get('sale.point')
            _, code = Device.new_enrollment(Terminal(cls.shop.terminal))
            return code
        code = committed(enroll)
        status, data = Api().post('enroll', {'code': code})
        assert status == 200, data
        cls.key = data['device_key']
        cls.receipt = 0

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def sale(self, **kwargs):
        type(self).receipt += 1
        return sale_op(self.shop, self.receipt, **kwargs)

    def raw(self, path, data, key=True, headers=None, method='POST',
            content_type='application/json'):
        api = Api(self.key if key else None)
        headers = dict(api.headers(), **(headers or {}))
        response = api.client.open(api.url(path), method=method, data=data,
            content_type=content_type, headers=headers)
        return response.status_code, api.decode(response), response

    def assertError(self, result, status, code):
        got, data = result[:2]
        self.assertEqual(got, status, data)
        self.assertEqual(data['error']['code'], code, data)
        self.assertIn('server_time', data)

    def push_one_bad(self, bad, field):
        """Push bad between two good sales: bad is rejected invalid_payload
        naming field, the good ones are accepted, nothing is written for
        bad"""
        before = counts()
        good = [self.sale(), self.sale()]
        status, data = Api(self.key).push([good[0], bad, good[1]])
        self.assertEqual(status, 200, data)
        results = data['results']
        self.assertEqual([r['status'] for r in results],
            ['accepted', 'rejected', 'accepted'], results)
        reason = results[1]['reason']
        self.assertEqual(reason['code'], 'invalid_payload', reason)
        self.assertIn(field, reason['message'])
        self.assertNotIn('Traceback', reason['message'])
        sales, operations, moves = counts()
        # Two sales, three operations (the bad one in quarantine), and the
        # moves of the two good sales only
        self.assertEqual((sales, operations),
            (before[0] + 2, before[1] + 3))
        self.assertEqual(moves, before[2] + 2)
        return reason

    # Operations

    def test_string_sequence_among_integers(self):
        "A sequence sent as a string is rejected, the batch is applied"
        bad = self.sale()
        bad['sequence'] = "5"
        self.push_one_bad(bad, 'sequence')

    def test_integers_beyond_bounds(self):
        "Receipt numbers and sequences of 10^30, 0 or -5 are rejected"
        for field, value in [('receipt_number', BIG), ('receipt_number', 0),
                ('receipt_number', -5), ('sequence', BIG),
                ('sequence', 0), ('employee', BIG)]:
            with self.subTest(field=field, value=value):
                bad = self.sale()
                if field == 'receipt_number':
                    bad['payload'][field] = value
                else:
                    bad[field] = value
                self.push_one_bad(bad, field)

    def test_type_not_in_enum(self):
        "A type that is a list or unknown is rejected"
        for value in [["sale"], "refund", None, 7]:
            with self.subTest(type=value):
                bad = self.sale()
                bad['type'] = value
                self.push_one_bad(bad, 'type')

    def test_client_times(self):
        "Client times that overflow, lack an offset or leave the window"
        for value in ['9999-12-31T23:00:00-05:00',
                '0001-01-01T00:00:00+05:00', '2025-11-21T10:15:00',
                '1999-12-31T23:59:59Z', '2099-01-01T00:00:00+00:00',
                '2025-11-21T10:15:00+23:00', 'yesterday', 20251121]:
            with self.subTest(client_time=value):
                bad = self.sale()
                bad['client_time'] = value
                self.push_one_bad(bad, 'client_time')

    def test_decimals(self):
        "Quantities, prices and amounts out of bounds or not finite"
        for name, value in [('quantity', '1' + '0' * 30),
                ('quantity', '1.0001'), ('quantity', 'NaN'),
                ('price', 'Infinity'), ('price', '-Infinity'),
                ('price', '1e400'), ('price', '12.00000'),
                ('price', 12.0), ('quantity', '')]:
            with self.subTest(name=name, value=value):
                bad = self.sale()
                bad['payload']['lines'][0][name] = value
                self.push_one_bad(bad, f'lines[0].{name}')
        bad = self.sale()
        bad['payload']['payments'][0]['amount'] = '24.001'
        self.push_one_bad(bad, 'payments[0].amount')

    def test_cash_in_beyond_bounds(self):
        "A cash in of 10^30, zero or negative is rejected"
        for amount in ['1' + '0' * 30, '0', '-5.00', '0.00']:
            with self.subTest(amount=amount):
                bad = operation(self.shop, 'cash_in', {
                        'amount': amount,
                        'transfer_type': self.shop.transfer_type})
                self.push_one_bad(bad, 'payload.amount')

    def test_stock_count_beyond_bounds(self):
        "A count of 10^30 is rejected"
        bad = operation(self.shop, 'stock_count', {'lines': [{
                        'product': self.shop.products[0],
                        'quantity': '1' + '0' * 30}]})
        self.push_one_bad(bad, 'payload.lines[0].quantity')

    def test_payload_shapes(self):
        "Payloads of the wrong shape are rejected with the field named"
        for mutate, field in [
                (lambda o: o.update(payload=[]), 'payload'),
                (lambda o: o['payload'].update(lines=5), 'payload.lines'),
                (lambda o: o['payload'].update(lines=[]), 'payload.lines'),
                (lambda o: o['payload']['lines'].__setitem__(0, 'x'),
                    'payload.lines[0]'),
                (lambda o: o['payload']['lines'][0].update(product=BIG),
                    'payload.lines[0].product'),
                (lambda o: o['payload']['lines'][0].update(
                        discount={'type': 'bogus'}),
                    'payload.lines[0].discount.type'),
                (lambda o: o['payload'].update(session='a b'),
                    'payload.session'),
                (lambda o: o['payload'].update(customer_uuid='x' * 65),
                    'payload.customer_uuid'),
                ]:
            with self.subTest(field=field):
                bad = self.sale()
                mutate(bad)
                self.push_one_bad(bad, field)

    def test_malformed_journal_previous(self):
        """A journal whose previous hash has a control character is a
        broken link of the chain, not a server error"""
        sale = self.sale()
        sale['journal'] = {'hash': '0' * 64, 'previous': "1\t\x00n"}
        status, data = Api(self.key).push([sale])
        self.assertEqual(status, 200, data)
        self.assertEqual(data['results'][0]['status'], 'accepted', data)

    def test_same_uuid_twice_in_a_batch(self):
        """An operation sent twice in one push is applied once: the first
        is answered as applied, the second as its duplicate"""
        before = counts()
        sale = self.sale()
        status, data = Api(self.key).push([sale, dict(sale)])
        self.assertEqual(status, 200, data)
        first, second = data['results']
        self.assertEqual(first['status'], 'accepted', first)
        self.assertNotIn('first_status', first)
        self.assertEqual(second['status'], 'duplicate', second)
        self.assertEqual(second['first_status'], 'accepted', second)
        self.assertEqual(second['result'], first['result'])
        sales, operations, _ = counts()
        self.assertEqual((sales, operations), (before[0] + 1, before[1] + 1))

    def test_customer_fields(self):
        "A customer field with a control character (NUL, tab or line break)"
        " is rejected, nothing written"
        for field, value in [('name', "Ana\x00Peeters"),
                ('name', "Ana\tPeeters"), ('name', "Ana\nPeeters"),
                ('email', "ana@example.com\r\n"), ('phone', "+32\t2")]:
            with self.subTest(field=field, value=value):
                fields_ = {'name': "Ana Peeters"}
                fields_[field] = value
                bad = operation(self.shop, 'customer', {
                        'customer': None,
                        'customer_uuid': f'c-{field}-{len(value)}',
                        'fields': fields_})
                self.push_one_bad(bad, f'payload.fields.{field}')

    # Request fields

    def test_push_fields_beyond_bounds(self):
        "pending_operations of 10^30 or a string answers 400, nothing written"
        before = counts()
        for extra, field in [({'pending_operations': BIG},
                    'pending_operations'),
                ({'pending_operations': "3"}, 'pending_operations'),
                ({'app_version': 'x' * 65}, 'app_version'),
                ({'app_version': "1\x00"}, 'app_version')]:
            with self.subTest(field=field):
                result = Api(self.key).push([self.sale()], **extra)
                self.assertError(result, 400, 'bad_request')
                self.assertIn(field, result[1]['error']['message'])
        result = Api(self.key).post('status', {'pending_operations': BIG})
        self.assertError(result, 400, 'bad_request')
        self.assertEqual(counts(), before)

    def test_operation_without_printable_uuid(self):
        "An operation without a printable uuid answers 400"
        for uuid in [None, '', 'a\x00b', 'x' * 65, 5]:
            with self.subTest(uuid=uuid):
                op = self.sale()
                op['uuid'] = uuid
                self.assertError(Api(self.key).push([op]), 400,
                    'bad_request')

    # Bodies

    def test_duplicate_keys_refused(self):
        "A body with a key twice answers 400 instead of dropping one"
        before = counts()
        first, second = self.sale(), self.sale()
        body = ('{"operations": %s, "operations": %s}' % (
                json.dumps([first]), json.dumps([second])))
        result = self.raw('push', body)
        self.assertError(result, 400, 'bad_request')
        self.assertIn('duplicate', result[1]['error']['message'])
        self.assertEqual(counts(), before)

    def test_nan_and_infinity_literals_refused(self):
        "JSON NaN, Infinity and -Infinity literals answer 400"
        for literal in ['NaN', 'Infinity', '-Infinity']:
            with self.subTest(literal=literal):
                body = '{"operations": [], "pending_operations": %s}' % (
                    literal)
                self.assertError(self.raw('push', body), 400,
                    'bad_request')

    def test_deep_nesting_refused(self):
        "JSON nested 1,000 or 100,000 deep answers 400"
        for depth in [17, 1000, 100_000]:
            with self.subTest(depth=depth):
                body = ('{"operations": [], "cursor": '
                    + '[' * depth + ']' * depth + '}')
                result = self.raw('push', body)
                self.assertError(result, 400, 'bad_request')
                self.assertIn('nests', result[1]['error']['message'])

    def test_lone_surrogate_refused(self):
        "A lone surrogate in a string answers 400"
        body = '{"operations": [], "app_version": "\\ud800"}'
        self.assertError(self.raw('push', body), 400, 'bad_request')

    def test_enroll_odd_bodies_refused(self):
        """Odd enroll bodies (unknown keys, lone surrogates, a code of the
        wrong type, a device name on two lines) answer 400 and log no
        attempt"""
        def attempts():
            def read():
                Attempt = Pool().get('retail.sync.enroll.attempt')
                return Attempt.search_count([])
            return committed(read)
        before = attempts()
        odd = {
            '': {},
            '\x0fQ': [['\udb3a\udc84'], None, ['?\udbf8\udf1c', 1.5,
                    541299900000]],
            '\x8b\uda8b\udc4f': [-147, '+', 2110],
            '\udb4e\udcea[': [132623466128432, None, True],
            }
        bodies = [
            odd,
            # As the sync API fuzzer found it: a 500 when logging the
            # refused code, Tryton refusing the line break of the name
            dict(odd, code='XyU', app_version='*4~;d{/|bNsicInU^=At',
                device_name='\udae0\ude04V\xd3\u0113h\n\xc4O'),
            {'code': 'XyU', 'device_name': 'Till\t1'},
            {'code': 'XyU', 'device_name': 'Till 1\r'},
            {'code': 'XyU', 'device_name': 'Till\x7f'},
            {'code': ['\udb3a\udc84'], 'x': 1.5},
            {'code': 541299900000},
            {'code': 1.5},
            ]
        for body in bodies:
            with self.subTest(body=body):
                result = self.raw('enroll', json.dumps(body), key=False)
                self.assertError(result, 400, 'bad_request')
                self.assertNotIn('Traceback', result[1]['error']['message'])
        for body in [
                '{"code": "\\udb3a", "\\udc84": 1}',
                '{"code": "XyU", "\\ud800": null}',
                '{"code": "XyU", "device_name": "\\udc84"}',
                ]:
            with self.subTest(body=body):
                self.assertError(self.raw('enroll', body, key=False), 400,
                    'bad_request')
        self.assertEqual(attempts(), before)

    def test_body_too_large(self):
        "A 33 MB body answers 413, with or without a key"
        body = b'{"operations": [], "x": "' + b'a' * (33 * 1024 * 1024) + (
            b'"}')
        for key in [True, False]:
            with self.subTest(key=key):
                self.assertError(self.raw('push', body, key=key), 413,
                    'too_large')
        self.assertError(self.raw('enroll', b'{"code": "' + b'a' * 70000
                + b'"}', key=False), 413, 'too_large')

    def test_corrupt_compressed_bodies(self):
        "Corrupt or truncated gzip and deflate bodies answer 400"
        body = json.dumps({'operations': []}).encode()
        good_gzip, good_deflate = gzip.compress(body), zlib.compress(body)
        for encoding, data in [
                ('gzip', b'\x1f\x8b\x08\x00garbage-garbage-garbage'),
                ('gzip', good_gzip[:-6]),
                ('gzip', good_gzip[:10] + b'\xff' * 8 + good_gzip[18:]),
                ('deflate', b'\x78\x9c\xff\xff\xff\xff'),
                ('deflate', good_deflate + b'trailing'),
                ('gzip', b'not compressed')]:
            with self.subTest(encoding=encoding, data=data[:12]):
                self.assertError(self.raw('push', data,
                        headers={'Content-Encoding': encoding}), 400,
                    'bad_request')
        for encoding, data in [('gzip', good_gzip),
                ('deflate', good_deflate), ('GZIP', good_gzip)]:
            with self.subTest(encoding=encoding):
                status, answer, _ = self.raw('push', data,
                    headers={'Content-Encoding': encoding})
                self.assertEqual((status, answer['results']), (200, []))
        self.assertError(self.raw('push', good_gzip,
                headers={'Content-Encoding': 'br'}), 415,
            'unsupported_media_type')

    def test_gzip_bomb_stops_at_the_cap(self):
        "1 MB of gzip inflating to 1 GiB answers 413 before authentication"
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        zeros = b'\0' * (1 << 20)
        bomb = b''.join([compressor.compress(b'{"x": "')]
            + [compressor.compress(zeros) for _ in range(1024)]
            + [compressor.compress(b'"}'), compressor.flush()])
        self.assertLess(len(bomb), 2 << 20)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for path in ['enroll', 'push']:
            with self.subTest(path=path):
                started = time.monotonic()
                self.assertError(self.raw(path, bomb, key=False,
                        headers={'Content-Encoding': 'gzip'}), 413,
                    'too_large')
                self.assertLess(time.monotonic() - started, 10)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        # ru_maxrss is in KiB: inflating stopped at the 32 MiB cap
        self.assertLess(grown, 200 * 1024)

    def test_content_type(self):
        "A body that is not application/json in UTF-8 answers 415"
        for content_type in ['text/plain', 'application/x-www-form-urlencoded',
                'application/json; charset=latin-1']:
            with self.subTest(content_type=content_type):
                self.assertError(self.raw('push', b'{"operations": []}',
                        content_type=content_type), 415,
                    'unsupported_media_type')

    # Whole requests

    def test_401_has_server_time(self):
        "A 401 answers the JSON error with server_time"
        self.assertError(Api('rsk_1_nope').get('receipts'), 401,
            'unauthorized')
        self.assertError(Api().post('enroll', {'code': 'NOPE-NOPE'}), 401,
            'unauthorized')

    def test_unknown_paths_and_methods_answer_json(self):
        "Unknown paths answer a JSON 404, wrong methods a JSON 405"
        for method, path in [('GET', 'nothing'), ('POST', 'v2/push'),
                ('GET', 'receipts/a/b')]:
            with self.subTest(method=method, path=path):
                self.assertError(self.raw(path, b'', method=method), 404,
                    'not_found')
        for method, path, allowed in [('GET', 'push', 'POST'),
                ('DELETE', 'receipts', 'GET, HEAD'),
                ('PUT', 'enroll', 'POST'),
                ('POST', 'sessions/abc', 'GET, HEAD'),
                ('TRACE', 'push', 'POST'), ('QUERY', 'status', 'POST')]:
            with self.subTest(method=method, path=path):
                result = self.raw(path, b'', method=method)
                self.assertError(result, 405, 'method_not_allowed')
                self.assertEqual(result[2].headers['Allow'], allowed)

    def test_path_parameters(self):
        "A receipt number or session UUID with a NUL answers 404"
        for path in ['receipts/S1A-%00', 'sessions/a%00b',
                'receipts/' + 'x' * 65]:
            with self.subTest(path=path):
                self.assertError(self.raw(path, b'', method='GET'), 404,
                    'not_found')

    def test_cursor_and_page_bounds(self):
        "Cursors and page tokens with huge or wrong values answer 400"
        big = str(BIG)
        for cursor in [f'v1.{big}.1', f'v1.1.{big}', 'v1.-1.0']:
            with self.subTest(cursor=cursor):
                self.assertError(Api(self.key).get('changes', cursor=cursor),
                    400, 'bad_request')
        import base64
        for state in [{'v': 1, 'c': 'v1.0.0', 'k': 'x', 'a': 0},
                {'v': 1, 'c': 'v1.0.0', 'k': 0, 'a': BIG},
                {'v': 1, 'c': 5, 'k': 0, 'a': 0},
                {'v': 1, 'c': 'v1.0.0', 'k': 99, 'a': 0, 't': 'x'}, [1]]:
            with self.subTest(state=state):
                token = base64.urlsafe_b64encode(
                    json.dumps(state).encode()).decode()
                self.assertError(Api(self.key).get('bootstrap', page=token),
                    400, 'bad_request')

    # Enrollment

    def code(self, shop=None):
        def new():
            pool = Pool()
            Device = pool.get('retail.sync.device')
            Terminal = pool.get('sale.point')
            _, code = Device.new_enrollment(
                Terminal((shop or self.shop2).terminal))
            return code
        return committed(new)

    def enroll(self, code, address='127.0.0.1'):
        api = Api()
        response = api.client.post(api.url('enroll'),
            data=json.dumps({'code': code, 'device_name': "tablet"}),
            content_type='application/json',
            environ_overrides={'REMOTE_ADDR': address})
        return response.status_code, api.decode(response), response

    def attempts(self, **domain):
        def read():
            Attempt = Pool().get('retail.sync.enroll.attempt')
            return [(a.result, a.remote_addr, a.attempts)
                for a in Attempt.search([(k, '=', v)
                        for k, v in domain.items()], order=[('id', 'ASC')])]
        return committed(read)

    def test_new_code_supersedes_older_codes(self):
        "An older unused code stops working when a new one is issued"
        older, newer = self.code(), self.code()
        self.assertError(self.enroll(older), 401, 'unauthorized')
        status, data, _ = self.enroll(newer)
        self.assertEqual(status, 200, data)
        self.assertEqual(Api(data['device_key']).get('receipts')[0], 200)
        # The older code again: still refused, the new key still valid
        self.assertError(self.enroll(older), 401, 'unauthorized')
        self.assertEqual(Api(data['device_key']).get('receipts')[0], 200)

    def test_enrollment_throttled_per_address(self):
        "Failed attempts from one address are throttled and logged"
        address = '192.0.2.10'
        for i in range(device_module.ENROLL_MAX_ADDRESS):
            self.assertError(self.enroll(f'BAD{i}-CODE', address), 401,
                'unauthorized')
        code = self.code()
        for _ in range(3):
            result = self.enroll(code, address)
            self.assertError(result, 429, 'too_many_requests')
            retry = int(result[2].headers['Retry-After'])
            self.assertTrue(
                0 < retry <= device_module.ENROLL_WINDOW + 1, retry)
        # Another address is not throttled
        self.assertEqual(self.enroll(code, '192.0.2.11')[0], 200)
        self.assertEqual(self.attempts(remote_addr=address),
            [('refused', address, 1)] * device_module.ENROLL_MAX_ADDRESS
            + [('throttled', address, 3)])
        self.assertEqual(self.attempts(remote_addr='192.0.2.11'),
            [('enrolled', '192.0.2.11', 1)])

        def later():
            Attempt = Pool().get('retail.sync.enroll.attempt')
            import datetime as dt
            now = dt.datetime.now()
            return (Attempt.retry_after(address, now),
                Attempt.retry_after(address, now + dt.timedelta(
                        seconds=device_module.ENROLL_WINDOW + 2)))
        during, after = committed(later)
        self.assertTrue(during)
        self.assertIsNone(after)

    def test_enrollment_throttled_per_database(self):
        "Failed attempts from many addresses throttle the database"
        with mock.patch.object(device_module, 'ENROLL_MAX_DATABASE',
                len(self.attempts(result='refused')) + 3):
            for i in range(3):
                self.assertError(self.enroll('NOPE-NOPE', f'198.51.100.{i}'),
                    401, 'unauthorized')
            self.assertError(self.enroll(self.code(), '198.51.100.99'),
                429, 'too_many_requests')

    def test_failed_attempts_visible_to_admin_only(self):
        "The attempts are readable by an administrator, not a manager"
        self.enroll('SEEN-CODE', '203.0.113.5')

        def read():
            pool = Pool()
            Attempt = pool.get('retail.sync.enroll.attempt')
            User = pool.get('res.user')
            ModelData = pool.get('ir.model.data')
            from trytond.model.exceptions import AccessError
            from trytond.transaction import Transaction
            admin = User(1)
            with Transaction().set_user(admin.id), \
                    Transaction().set_context(_check_access=True):
                seen = Attempt.search_read(
                    [('remote_addr', '=', '203.0.113.5')], fields_names=[
                        'result', 'remote_addr'])
            manager_group = ModelData.get_id(
                'retail', 'group_store_manager')
            manager, = User.create([{'login': 'attempts_manager',
                        'name': "Manager", 'groups': [
                            ('add', [manager_group])]}])
            with Transaction().set_user(manager.id), \
                    Transaction().set_context(_check_access=True):
                try:
                    Attempt.search([])
                except AccessError:
                    refused = True
                else:
                    refused = False
            return seen, refused
        seen, refused = committed(read)
        self.assertEqual([(a['result'], a['remote_addr']) for a in seen],
            [('refused', '203.0.113.5')])
        self.assertTrue(refused)


class OpenApiTestCase(unittest.TestCase):
    "The OpenAPI description states the bounds the server checks"

    def test_openapi_holds_the_schemas(self):
        "docs/sync-openapi.yaml has every schema of schema.py, as it is"
        import os

        import yaml

        from trytond.modules.retail_sync import schema
        path = os.path.join(os.path.dirname(__file__), '..', '..', '..',
            'docs', 'sync-openapi.yaml')
        if not os.path.exists(path):
            self.skipTest("not run from a checkout")
        with open(path) as file:
            document = yaml.safe_load(file)
        components = document['components']['schemas']
        for name, value in schema.SCHEMAS.items():
            with self.subTest(name=name):
                self.assertEqual(components.get(name), value)

    def test_patterns_match_as_in_json_schema(self):
        "A pattern's $ is the end of the string, not before a line break"
        from trytond.modules.retail_sync import schema
        with self.assertRaises(schema.Invalid):
            schema.validate('12.50\n', 'Price')
        schema.validate('12.50', 'Price')


def load_tests(loader, tests, pattern):
    suite = unittest.TestSuite()
    suite.addTests(loader.loadTestsFromTestCase(OpenApiTestCase))
    suite.addTests(loader.loadTestsFromTestCase(ValidationTestCase))
    return suite
