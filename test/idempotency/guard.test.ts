import t from 'tap'
import { canonicalJson, fingerprint, runOnce } from '../../src/idempotency/guard.js'
import { MemoryIdempotencyStore } from '../../src/idempotency/memory.js'
import { StoreUnavailableError } from '../../src/nonce/store.js'
import { ERRORS, GatewayError } from '../../src/errors.js'

t.test('canonical JSON ignores key order only', async (t) => {
  t.equal(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 2 }], c: null } }), '{"a":{"c":null,"d":[2,{"x":2,"y":1}]},"b":1}')
  t.equal(fingerprint('POST', '/x', {}, { a: 1, b: 2 }), fingerprint('POST', '/x', {}, { b: 2, a: 1 }))
  t.not(fingerprint('POST', '/x', {}, { a: 1 }), fingerprint('POST', '/y', {}, { a: 1 }))
  t.not(fingerprint('POST', '/x', {}, { a: [1, 2] }), fingerprint('POST', '/x', {}, { a: [2, 1] }))
  t.not(fingerprint('POST', '/x', { q: '1' }, {}), fingerprint('POST', '/x', { q: '2' }, {}))
})

t.test('concurrent duplicates share one execution; a thrown error holds the key for the lock, then a retry runs', async (t) => {
  let now = 0
  const store = new MemoryIdempotencyStore({ ttlMs: 60_000, lockMs: 5_000, maxEntries: 10, now: () => now })
  let runs = 0
  const work = async () => {
    runs++
    await new Promise((r) => setTimeout(r, 50))
    return { status: 201, body: `{"run":${runs}}` }
  }
  const outcomes = await Promise.all(Array.from({ length: 10 }, () => runOnce(store, 'k', 'fp', 5_000, work)))
  t.equal(runs, 1)
  t.same(new Set(outcomes.map((o) => o.body)), new Set(['{"run":1}']))
  t.equal(outcomes.filter((o) => !o.replayed).length, 1)
  await t.rejects(runOnce(store, 'boom', 'fp', 5_000, async () => Promise.reject(new Error('crash'))), /crash/)
  await t.rejects(runOnce(store, 'boom', 'fp', 5_000, work), { message: ERRORS.idempotencyInProgress.message }, 'nobody knows what the crashed work did: a retry meanwhile is refused')
  now = 5_001
  t.same(await runOnce(store, 'boom', 'fp', 5_000, work), { status: 201, body: '{"run":2}', replayed: false, recorded: true }, 'a retry after the hold runs')
  await t.rejects(runOnce(store, 'k', 'other', 5_000, work), GatewayError)
})

t.test('a full memory store refuses new keys rather than forgetting live ones', async (t) => {
  let now = 0
  const store = new MemoryIdempotencyStore({ ttlMs: 1_000, lockMs: 100, maxEntries: 2, now: () => now })
  const done = async () => ({ status: 200, body: '{}' })
  await runOnce(store, 'a', 'fp', 100, done)
  await runOnce(store, 'b', 'fp', 100, done)
  await t.rejects(runOnce(store, 'c', 'fp', 100, done), StoreUnavailableError)
  t.same(await runOnce(store, 'a', 'fp', 100, done), { status: 200, body: '{}', replayed: true, recorded: true }, 'live records still answer')
  now = 1_000
  t.equal((await runOnce(store, 'c', 'fp', 100, done)).replayed, false, 'expired records make room')
})

t.test('the memory store is bounded in bytes too: one huge record cannot take the heap (attack review)', async (t) => {
  const store = new MemoryIdempotencyStore({ ttlMs: 60_000, lockMs: 1000, maxEntries: 10 })
  const claim = await store.claim('k-1', 'f')
  if (claim.state !== 'claimed') throw new Error('expected a claim')
  await store.complete('k-1', claim.token, 'f', { status: 400, body: 'x'.repeat(20_000) })
  t.ok(store.size.bytes > 10 * 1024, `one record of ${store.size.bytes} bytes, over the 10 KiB that 10 records may hold`)
  await t.rejects(store.claim('k-2', 'f'), StoreUnavailableError, 'a new key is refused (503), not stored over the bound')
  t.equal((await store.claim('k-1', 'f')).state, 'done', 'the stored answer still answers its retries')
})
