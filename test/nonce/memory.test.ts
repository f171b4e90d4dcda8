import t from 'tap'
import { MemoryNonceStore } from '../../src/nonce/memory.js'
import { StoreUnavailableError } from '../../src/nonce/store.js'

t.test('a nonce is accepted once per scope until its retention ends', async (t) => {
  let now = 1_000
  const store = new MemoryNonceStore({ maxEntries: 10, now: () => now })
  t.equal(await store.claim('a', 'n1', 100), true)
  t.equal(await store.claim('a', 'n1', 100), false)
  t.equal(await store.claim('b', 'n1', 100), true, 'scopes are separate')
  now += 99
  t.equal(await store.claim('a', 'n1', 100), false, 'still live just before expiry')
  now += 1
  t.equal(await store.claim('a', 'n1', 100), true, 'accepted again after expiry')
})

t.test('retentions differ per claim: a nonce is never forgotten before its own retention ends', async (t) => {
  let now = 0
  const store = new MemoryNonceStore({ maxEntries: 10, now: () => now })
  t.equal(await store.claim('k', 'long', 1_000), true)
  t.equal(await store.claim('k', 'short', 10), true, 'queued behind a longer retention')
  now = 999
  t.equal(await store.claim('k', 'long', 1), false, 'the long one is still remembered')
  t.equal(await store.claim('k', 'short', 1), false, 'the short one is kept as long as the one before it (longer than asked, never shorter)')
  now = 1_000
  t.equal(await store.claim('k', 'long', 1), true, 'both expire together')
})

t.test('when full of live nonces it refuses rather than forgets (fail closed), and recovers as they expire', async (t) => {
  let now = 0
  const store = new MemoryNonceStore({ maxEntries: 3, now: () => now })
  for (const n of ['1', '2', '3']) t.equal(await store.claim('k', n, 1_000), true)
  await t.rejects(store.claim('k', '4', 1_000), StoreUnavailableError)
  t.equal(await store.claim('k', '1', 1_000), false, 'live nonces are still remembered')
  now = 1_000
  t.equal(await store.claim('k', '4', 1_000), true, 'expired entries make room')
  t.equal(store.size, 1)
})
