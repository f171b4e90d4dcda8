import t from 'tap'
import { TtlCache } from '../../src/credentials/cache.js'

t.test('an entry lives until its TTL ends on the injected clock, not a moment longer', async (t) => {
  let now = 1_000
  const cache = new TtlCache<string>(10, () => now)
  cache.set('a', 'A', 100)
  t.equal(cache.get('a')?.value, 'A')
  now = 1_099
  t.equal(cache.get('a')?.value, 'A', 'still there one millisecond before expiry')
  now = 1_100
  t.equal(cache.get('a'), undefined, 'gone exactly at expiry')
  t.equal(cache.size, 0, 'an expired entry read is dropped, not kept')
})

t.test('set again renews the value and the TTL', async (t) => {
  let now = 0
  const cache = new TtlCache<string>(10, () => now)
  cache.set('a', 'old', 100)
  now = 90
  cache.set('a', 'new', 100)
  now = 150
  t.equal(cache.get('a')?.value, 'new')
  t.equal(cache.size, 1)
  now = 190
  t.equal(cache.get('a'), undefined)
})

t.test('a TTL of zero or less stores nothing (and leaves what was there)', async (t) => {
  const cache = new TtlCache<number>(10, () => 0)
  cache.set('zero', 1, 0)
  cache.set('negative', 1, -5)
  t.equal(cache.size, 0)
  t.equal(cache.get('zero'), undefined)
  t.equal(cache.get('negative'), undefined)
  cache.set('kept', 1, 10)
  cache.set('kept', 2, 0)
  t.equal(cache.get('kept')?.value, 1)
})

t.test('the bound evicts the least recently used entry; a get counts as a use', async (t) => {
  const cache = new TtlCache<string>(3, () => 0)
  cache.set('a', 'A', 1_000)
  cache.set('b', 'B', 1_000)
  cache.set('c', 'C', 1_000)
  t.equal(cache.get('a')?.value, 'A', 'a is now the most recently used')
  cache.set('d', 'D', 1_000)
  t.equal(cache.size, 3, 'never more than the bound')
  t.equal(cache.get('b'), undefined, 'b, the least recently used, was evicted')
  t.equal(cache.get('a')?.value, 'A', 'a survived because it was read')
  t.equal(cache.get('c')?.value, 'C')
  t.equal(cache.get('d')?.value, 'D')
  // order now (oldest first): a, c, d
  cache.set('e', 'E', 1_000)
  t.equal(cache.get('a'), undefined, 'then a is the oldest')
  t.equal(cache.get('c')?.value, 'C')
})

t.test('replacing a key at the bound evicts nothing else', async (t) => {
  const cache = new TtlCache<string>(2, () => 0)
  cache.set('a', 'A', 1_000)
  cache.set('b', 'B', 1_000)
  cache.set('a', 'A2', 1_000)
  t.equal(cache.size, 2)
  t.equal(cache.get('a')?.value, 'A2')
  t.equal(cache.get('b')?.value, 'B')
})

t.test('a falsy value is still a hit', async (t) => {
  const cache = new TtlCache<number | boolean>(3, () => 0)
  cache.set('zero', 0, 10)
  cache.set('no', false, 10)
  t.equal(cache.get('zero')?.value, 0)
  t.equal(cache.get('no')?.value, false)
})

t.test('clear empties the cache', async (t) => {
  const cache = new TtlCache<string>(5, () => 0)
  cache.set('a', 'A', 10)
  cache.set('b', 'B', 10)
  cache.clear()
  t.equal(cache.size, 0)
  t.equal(cache.get('a'), undefined)
  t.equal(cache.get('b'), undefined)
  cache.set('c', 'C', 10)
  t.equal(cache.get('c')?.value, 'C', 'usable after clear')
})

t.test('the clock defaults to Date.now', async (t) => {
  const cache = new TtlCache<string>(5)
  cache.set('a', 'A', 60_000)
  t.equal(cache.get('a')?.value, 'A')
})
