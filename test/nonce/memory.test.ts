import t from 'tap'
import { MemoryNonceStore } from '../../src/nonce/memory.js'
import { StoreUnavailableError } from '../../src/nonce/store.js'

t.test('a nonce is accepted once per scope until it expires', async (t) => {
  let now = 1_000
  const store = new MemoryNonceStore({ ttlMs: 100, maxEntries: 10, now: () => now })
  t.equal(await store.claim('a', 'n1'), true)
  t.equal(await store.claim('a', 'n1'), false)
  t.equal(await store.claim('b', 'n1'), true, 'scopes are separate')
  now += 99
  t.equal(await store.claim('a', 'n1'), false, 'still live just before expiry')
  now += 1
  t.equal(await store.claim('a', 'n1'), true, 'accepted again after expiry')
})

t.test('when full of live nonces it refuses rather than forgets (fail closed), and recovers as they expire', async (t) => {
  let now = 0
  const store = new MemoryNonceStore({ ttlMs: 1_000, maxEntries: 3, now: () => now })
  for (const n of ['1', '2', '3']) t.equal(await store.claim('k', n), true)
  await t.rejects(store.claim('k', '4'), StoreUnavailableError)
  t.equal(await store.claim('k', '1'), false, 'live nonces are still remembered')
  now = 1_000
  t.equal(await store.claim('k', '4'), true, 'expired entries make room')
  t.equal(store.size, 1)
})
