import t from 'tap'
import { buildCredential, CredentialRecordError, type Credential } from '../../src/credentials/credential.js'
import { CredentialResolver, type ResolverOptions } from '../../src/credentials/resolver.js'
import { HttpCredentialSource } from '../../src/credentials/sources.js'
import { StoreUnavailableError } from '../../src/nonce/store.js'
import type { SigningScheme } from '../../src/signing/index.js'
import { CredentialService } from '../helpers/credential-service.js'
import { until } from '../helpers/poll.js'

const scheme: SigningScheme = { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }
const cache = { ttlMs: 60_000, negativeTtlMs: 60_000, maxEntries: 100, maxUnknown: 100 }

const service = await CredentialService.start()
t.teardown(() => service.close())
const source = new HttpCredentialSource(service.url, 2000)
for (const n of [1, 2, 3, 4, 5]) service.records.set(`known-${n}`, { id: `dyn-${n}`, subject: `user-${n}`, secret: `secret-${n}` })

function resolver(options: Partial<Omit<ResolverOptions, 'cache'>> & { cache?: Partial<ResolverOptions['cache']> } = {}): CredentialResolver {
  return new CredentialResolver({ fixed: new Map(), sources: [source], defaultScheme: scheme, ...options, cache: { ...cache, ...options.cache } })
}

/** What a promise has settled to by the time the event loop turns once: a refusal is immediate, a lookup is not. */
function settledNow<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown } | 'pending'> {
  return Promise.race([promise.then((value) => ({ value }), (error: unknown) => ({ error })), new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))])
}

/** A fresh key name per test, so lookup counts on the shared service start at zero. */
let serial = 0
function fresh(prefix: string, record?: unknown): string {
  const key = `${prefix}-${++serial}`
  if (record !== undefined) service.records.set(key, record)
  return key
}

t.test('fixed credentials come first and never reach a source', async (t) => {
  const fixedKey = fresh('fixed', { subject: 'from-source', secret: 'x' })
  const fixed = buildCredential(fixedKey, { id: 'file', subject: 'from-file', key: 'file-secret' }, scheme)
  const r = resolver({ fixed: new Map([[fixedKey, fixed]]) })
  t.equal(await r.resolve(fixedKey), fixed)
  t.equal(service.lookups(fixedKey), 0, 'the source was not asked')
  t.equal(r.cachedEntries, 0, 'nor is a fixed credential cached')

  const noSources = new CredentialResolver({ fixed: new Map([[fixedKey, fixed]]), sources: [], defaultScheme: scheme, cache })
  const other = fresh('other')
  t.equal(await noSources.resolve(fixedKey), fixed)
  t.equal(await noSources.resolve(other), undefined, 'without sources an unknown key is unknown at once')
  t.equal(service.lookups(other), 0)
})

t.test('a dynamic credential is looked up once, then served from the cache', async (t) => {
  const key = fresh('dyn', { id: 'dyn', subject: 'ursula', secret: 's', accounts: 'a1,a2' })
  const seen: boolean[] = []
  const r = resolver({ onCacheLookup: (hit) => seen.push(hit) })
  const first = await r.resolve(key)
  t.equal(first?.id, 'dyn')
  t.equal(first?.subject, 'ursula')
  t.same([...(first?.accounts ?? [])], ['a1', 'a2'])
  t.equal(first?.verifier.scheme.hash, 'sha256', 'built with the default scheme')
  const second = await r.resolve(key)
  t.equal(second, first, 'the same credential object: the key was parsed once')
  t.equal(service.lookups(key), 1)
  t.same(seen, [false, true], 'a miss, then a hit')
  t.equal(r.cachedEntries, 1)
})

t.test('a cached credential is looked up again after its TTL', async (t) => {
  const key = fresh('ttl', { subject: 'v1', secret: 's' })
  const r = resolver({ cache: { ttlMs: 50 } })
  t.equal((await r.resolve(key))?.subject, 'v1')
  service.records.set(key, { subject: 'v2', secret: 's' })
  const renewed = await until(async () => (await r.resolve(key))?.subject === 'v2', { what: 'the cached credential to expire' })
  t.ok(renewed)
  t.equal(service.lookups(key), 2, 'one lookup per fill, however often it was read in between')
})

t.test('concurrent lookups of one key are coalesced into one source call', async (t) => {
  const key = fresh('burst', { id: 'burst', subject: 'w', secret: 's' })
  const r = resolver()
  service.hold()
  let all: Array<Promise<unknown>>
  try {
    all = Array.from({ length: 20 }, () => r.resolve(key))
    await until(() => service.heldBack >= 1, { what: 'the lookup to reach the service' })
  } finally {
    service.release()
  }
  const results = await Promise.all(all)
  t.equal(service.lookups(key), 1, 'one lookup for 20 requests')
  t.ok(results.every((c) => c !== undefined && c === results[0]), 'all share its answer')
})

t.test('unknown keys are cached apart, with their own bound: a flood of them does not evict a known key', async (t) => {
  const known = fresh('keep', { id: 'keep', subject: 'x', secret: 's' })
  const r = resolver({ cache: { maxEntries: 2, maxUnknown: 3 } })
  t.equal((await r.resolve(known))?.id, 'keep')
  const bogus = Array.from({ length: 25 }, () => fresh('bogus'))
  for (const key of bogus) t.equal(await r.resolve(key), undefined)
  t.equal(r.cachedUnknown, 3, 'unknown keys stay within maxUnknown')
  t.equal(r.cachedEntries, 1)
  t.equal((await r.resolve(known))?.id, 'keep')
  t.equal(service.lookups(known), 1, 'the known key is still cached after the flood')
  t.equal(await r.resolve(bogus.at(-1) as string), undefined)
  t.equal(service.lookups(bogus.at(-1) as string), 1, 'a recent unknown key is answered from the negative cache')
  t.equal(await r.resolve(bogus[0] as string), undefined)
  t.equal(service.lookups(bogus[0] as string), 2, 'an unknown key pushed out of the bound is looked up again')
})

t.test('known keys are bounded too: the least recently used is evicted', async (t) => {
  const keys = [fresh('lru', { subject: 'a', secret: 's' }), fresh('lru', { subject: 'b', secret: 's' }), fresh('lru', { subject: 'c', secret: 's' })]
  const [a, b, c] = keys as [string, string, string]
  const r = resolver({ cache: { maxEntries: 2 } })
  await r.resolve(a)
  await r.resolve(b)
  await r.resolve(a) // a is now the most recently used
  await r.resolve(c)
  t.equal(r.cachedEntries, 2)
  await r.resolve(a)
  t.equal(service.lookups(a), 1, 'a stayed')
  await r.resolve(b)
  t.equal(service.lookups(b), 2, 'b was evicted')
})

t.test('negativeTtl: how long an unknown key stays unknown without asking', async (t) => {
  const key = fresh('neg')
  const r = resolver({ cache: { negativeTtlMs: 60 } })
  t.equal(await r.resolve(key), undefined)
  t.equal(await r.resolve(key), undefined)
  t.equal(service.lookups(key), 1, 'cached as unknown')
  service.records.set(key, { id: 'late', subject: 'y', secret: 's' })
  const found = await until(async () => (await r.resolve(key))?.id === 'late', { what: 'the negative entry to expire' })
  t.ok(found, 'a key created afterwards is found once the negative entry expires')
  t.equal(service.lookups(key), 2)

  const never = resolver({ cache: { negativeTtlMs: 0 } })
  const other = fresh('neg0')
  await never.resolve(other)
  await never.resolve(other)
  t.equal(service.lookups(other), 2, 'negativeTtl 0: unknown keys are not cached')
  t.equal(never.cachedUnknown, 0)
})

t.test('beyond maxLookups in flight a new key is refused, not queued; the same key still joins', async (t) => {
  const [a, b, c] = [fresh('busy', { subject: 'a', secret: 's' }), fresh('busy', { subject: 'b', secret: 's' }), fresh('busy', { subject: 'c', secret: 's' })] as [string, string, string]
  const r = resolver({ maxLookups: 2 })
  service.hold()
  let pa: Promise<unknown>, pb: Promise<unknown>, pa2: Promise<unknown>
  try {
    pa = r.resolve(a)
    pb = r.resolve(b)
    const third = await settledNow(r.resolve(c))
    t.ok(typeof third === 'object' && 'error' in third && third.error instanceof StoreUnavailableError, 'a third key is refused at once')
    pa2 = r.resolve(a)
    await until(() => service.heldBack >= 2, { what: 'two lookups to reach the service' })
  } finally {
    service.release()
  }
  t.equal(((await pa) as Credential | undefined)?.subject, 'a')
  t.equal(((await pb) as Credential | undefined)?.subject, 'b')
  t.equal(await pa2, await pa, 'a second request for a key in flight joins it')
  t.equal(service.lookups(c), 0, 'the refused key never reached the source')
  t.equal((await r.resolve(c))?.subject, 'c', 'once the lookups are done, new keys are looked up again')
})

t.test('the default maxLookups is 64', async (t) => {
  const r = resolver()
  const keys = Array.from({ length: 65 }, () => fresh('many'))
  service.hold()
  let pending: Array<Promise<unknown>>
  try {
    pending = keys.slice(0, 64).map((key) => r.resolve(key))
    const last = await settledNow(r.resolve(keys[64] as string))
    t.ok(typeof last === 'object' && 'error' in last && last.error instanceof StoreUnavailableError, 'the 65th key is refused')
  } finally {
    service.release()
  }
  t.same(await Promise.all(pending), Array(64).fill(undefined))
})

t.test('a source failure is passed on and not cached; the lookup is no longer in flight', async (t) => {
  const key = fresh('flaky', { subject: 'z', secret: 's' })
  const r = resolver({ maxLookups: 1 })
  const normal = service.answer
  service.answer = () => ({ status: 503 })
  await t.rejects(r.resolve(key), StoreUnavailableError)
  t.equal(r.cachedUnknown, 0, 'a failure is not an unknown key')
  service.answer = normal
  t.equal((await r.resolve(key))?.subject, 'z', 'the next request looks up again (and is not refused as in flight)')
  t.equal(service.lookups(key), 2)
})

t.test('a bad record is refused and not cached', async (t) => {
  const key = fresh('bad', { id: 'not valid!', subject: 'z', secret: 's' })
  const r = resolver()
  await t.rejects(r.resolve(key), CredentialRecordError)
  await t.rejects(r.resolve(key), CredentialRecordError)
  t.equal(service.lookups(key), 2)
  t.equal(r.cachedEntries + r.cachedUnknown, 0)
})

t.test('sources are tried in order until one knows the key', async (t) => {
  const second = await CredentialService.start()
  t.teardown(() => second.close())
  const onlySecond = fresh('second')
  second.records.set(onlySecond, { id: 'from-second', subject: 's2', secret: 's' })
  const inFirst = fresh('first', { id: 'from-first', subject: 's1', secret: 's' })
  second.records.set(inFirst, { id: 'shadowed', subject: 'nope', secret: 's' })
  const r = resolver({ sources: [source, new HttpCredentialSource(second.url, 2000)] })
  t.equal((await r.resolve(onlySecond))?.id, 'from-second')
  t.equal((await r.resolve(inFirst))?.id, 'from-first')
  t.equal(second.lookups(inFirst), 0, 'the second source is not asked when the first knows the key')
  const nowhere = fresh('nowhere')
  t.equal(await r.resolve(nowhere), undefined)
  t.same([service.lookups(nowhere), second.lookups(nowhere)], [1, 1], 'an unknown key is asked of every source once')
})

t.test('replaceFixed swaps the fixed credentials and forgets both caches', async (t) => {
  const dynamic = fresh('reload', { id: 'before', subject: 'x', secret: 's' })
  const unknown = fresh('reload-unknown')
  const old = buildCredential('old-fixed', { id: 'old', subject: 'o', key: 's' }, scheme)
  const r = resolver({ fixed: new Map([['old-fixed', old]]) })
  await r.resolve(dynamic)
  await r.resolve(unknown)
  t.same([r.cachedEntries, r.cachedUnknown], [1, 1])
  service.records.set(dynamic, { id: 'after', subject: 'x', secret: 's' })
  service.records.set(unknown, { id: 'now-known', subject: 'y', secret: 's' })
  const added = buildCredential('new-fixed', { id: 'new', subject: 'n', key: 's' }, scheme)
  r.replaceFixed(new Map([['new-fixed', added]]))
  t.same([r.cachedEntries, r.cachedUnknown], [0, 0])
  t.equal(await r.resolve('new-fixed'), added, 'the new fixed credential')
  t.equal(await r.resolve('old-fixed'), undefined, 'the old one is gone (and the source does not know it)')
  t.equal((await r.resolve(dynamic))?.id, 'after', 'a cached credential is looked up again')
  t.equal((await r.resolve(unknown))?.id, 'now-known', 'so is a cached unknown key')
})

t.test('replaceFixed also forgets a lookup that was in flight when it was called', async (t) => {
  // A reload is how an operator flushes a revoked or rotated credential out of the cache.
  const key = fresh('race', { id: 'before', subject: 'x', secret: 's' })
  const r = resolver()
  service.hold()
  const inFlight = r.resolve(key)
  await until(() => service.heldBack === 1, { what: 'the lookup to reach the service' })
  r.replaceFixed(new Map())
  service.records.set(key, { id: 'after', subject: 'x', secret: 's' })
  service.release()
  t.equal((await inFlight)?.id, 'before', 'the request that started before the reload gets the answer it asked for')
  t.equal((await r.resolve(key))?.id, 'after', 'but a request after the reload must not be served the pre-reload lookup from the cache')
})

t.test('a known key past its TTL is served while it is refreshed, even when a flood of unknown keys holds every lookup slot (attack review)', async (t) => {
  let now = 1_000_000
  const r = new CredentialResolver({ fixed: new Map(), sources: [source], defaultScheme: scheme, cache: { ...cache, ttlMs: 60_000 }, maxLookups: 2 }, () => now)
  const known = fresh('known', { subject: 'u', secret: 's' })
  t.equal((await r.resolve(known))?.subject, 'u', 'looked up once')
  now += 61_000 // past its TTL
  service.hold()
  const flood = [r.resolve(fresh('bogus')), r.resolve(fresh('bogus'))] // both lookup slots busy
  const during = await settledNow(r.resolve(known))
  t.match(during, { value: { subject: 'u' } }, 'answered at once from the stale entry, not refused with 503')
  service.release()
  await Promise.all(flood)
  now += 60_000 // two TTLs after the last successful lookup: no longer served without one
  service.hold()
  const late = r.resolve(known)
  t.equal(await settledNow(late), 'pending', 'past the stale window it waits for a lookup')
  service.release()
  t.equal((await late)?.subject, 'u')
  service.records.delete(known)
  now += 61_000
  await r.resolve(known) // stale: served, and the refresh finds the key gone
  await until(async () => (await settledNow(r.resolve(known))) !== 'pending' && (await r.resolve(known)) === undefined, { what: 'the revoked key to be forgotten' })
  t.pass('a refresh that finds the key revoked drops it')
})
