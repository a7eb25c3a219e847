# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Decimal strings on the wire: dec() gives the plain notation of every
Decimal, exponents included, without trailing zeros; a kept page's
deflated JSON inside a gzip answer"""
import gzip
import json
import random
import time
import unittest
import zlib
from decimal import Decimal

from trytond.modules.retail_sync import deflated
from trytond.modules.retail_sync.pull import PageCache
from trytond.modules.retail_sync.wire import dec


def reference(value):
    "The plain notation through format(), as dec() was first written"
    text = format(Decimal(value), 'f')
    if '.' in text:
        text = text.rstrip('0').rstrip('.')
    return text or '0'


class WireTestCase(unittest.TestCase):

    def test_dec_plain_notation(self):
        values = ['0', '-0', '0.0000', '1', '10', '1.50', '-2.5000',
            '1E+1', '1E+3', '5E-7', '-1.2E-8', '123456789.123456789',
            '0.00001', '0.000001', '0.0000001', '100.000', '1e2', 12, 1.5]
        rng = random.Random(15)
        for _ in range(2000):
            digits = rng.randint(0, 10 ** rng.randint(1, 12))
            exponent = rng.randint(-12, 4)
            values.append(Decimal(digits).scaleb(exponent)
                * rng.choice([1, -1]))
        for value in values:
            expected = reference(value if isinstance(value, (Decimal, str))
                else str(value))
            self.assertEqual(dec(value if not isinstance(value, str)
                    else Decimal(value)), expected, value)
        self.assertIsNone(dec(None))
        self.assertEqual(dec(Decimal('1E+1')), '10')
        self.assertEqual(dec(Decimal('5E-7')), '0.0000005')


class PageCacheTestCase(unittest.TestCase):
    "The delta pages a process keeps"

    def test_least_recently_used_go_first(self):
        "Beyond its size, the pages asked for longest ago are dropped"
        cache = PageCache(10, 300)
        cache.put('a', (b'1234', 1))
        cache.put('b', (b'1234', 1))
        self.assertEqual(cache.get('a'), (b'1234', 1))
        cache.put('c', (b'1234', 1))
        self.assertIsNone(cache.get('b'))
        self.assertEqual(cache.get('a'), (b'1234', 1))
        self.assertEqual(cache.get('c'), (b'1234', 1))
        # a page larger than the cache is not kept
        cache.put('d', (b'x' * 11, 1))
        self.assertIsNone(cache.get('d'))
        self.assertEqual((cache.hits, cache.misses), (3, 2))

    def test_pages_expire(self):
        "A page is answered for ttl seconds at most"
        cache = PageCache(100, 0)
        cache.put('a', (b'[]', 0))
        time.sleep(0.01)
        self.assertIsNone(cache.get('a'))


class DeflatedTestCase(unittest.TestCase):
    "A kept page's deflated JSON answered inside a gzip stream as it is"

    def test_crc32_combine(self):
        "The CRC-32 of A + B from those of A and B, as zlib computes it"
        rng = random.Random(5)
        for _ in range(200):
            first = rng.randbytes(rng.randint(0, 64))
            second = rng.randbytes(rng.choice(
                    [0, 1, 7, 1000, rng.randint(0, 70000)]))
            self.assertEqual(deflated.crc32_combine(zlib.crc32(first),
                    zlib.crc32(second), len(second)),
                zlib.crc32(first + second))

    def test_gzip_join(self):
        "One gzip member of plain and deflated parts, any decoder reads"
        rng = random.Random(7)
        page = json.dumps([{'id': i, 'name': f"Item {rng.random()}"}
                for i in range(3000)]).encode()
        kept = deflated.DeflatedJSON.deflate(page)
        self.assertEqual(kept.inflate(), page)
        self.assertEqual((kept.crc, kept.size), (zlib.crc32(page), len(page)))
        for parts in [
                [b'{"records":{"product":', kept, b'},"total":3000}'],
                [kept], [kept, kept], [b'', kept, b''], [b'[1]'], []]:
            with self.subTest(parts=len(parts)):
                body = deflated.gzip_join(parts)
                self.assertEqual(gzip.decompress(body), deflated.join(parts))
                # a single member, checked by zlib's own gzip reader
                decoder = zlib.decompressobj(31)
                self.assertEqual(decoder.decompress(body),
                    deflated.join(parts))
                self.assertTrue(decoder.eof)
                self.assertEqual(decoder.unused_data, b'')
