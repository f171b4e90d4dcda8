import t from 'tap'
import { randomUUID } from 'node:crypto'
import calculateSlot from 'cluster-key-slot'
import { Redis } from 'ioredis'
import { send } from '../test/helpers/client.js'
import { until } from '../test/helpers/poll.js'
import { RedisCluster, type ClusterNode } from '../test/helpers/redis-ha.js'
import { key, payoutBackend, startGateways, SteadyLoad, stopGateways, summary, WITHDRAWAL } from './harness.js'

/**
 * A Cluster of three primaries, each with a replica (node timeout 1 s), and
 * two gateway processes with `redis.durability: replicated`. The gateway
 * percent-encodes nonces in its keys (a `{…}` in a nonce picks no slot), so a
 * test aims at a primary by trying fresh nonces until the key lands in one of
 * its slots, with the key prefix learnt from Redis once.
 */
const cluster = await RedisCluster.create()
const backend = await payoutBackend()
const gateways = await startGateways(2, { url: cluster.url, durability: 'replicated', waitTimeout: '250ms' }, backend)
const [a, b] = gateways.map((g) => g.url) as [string, string]
t.teardown(async () => {
  await stopGateways(gateways, t)
  await Promise.all([cluster.stop(), backend.close()])
})

const gets = () => backend.requests.filter((r) => r.method === 'GET').length
const client = (port: number) => new Redis(port, '127.0.0.1')
const noncePrefix = await learnNoncePrefix()

/** What precedes the nonce in the gateway's nonce keys for the test credential. */
async function learnNoncePrefix(): Promise<string> {
  const { nonce, status } = await send(a, { path: '/v2/accounts', key })
  if (status !== 200) throw new Error(`a first request answered ${status}`)
  for (const primary of (await cluster.nodes()).filter((n) => n.role === 'master')) {
    const redis = client(primary.port)
    const [found] = await redis.keys(`nlgw:nonce:*:${nonce}`).finally(() => redis.disconnect())
    if (found) return found.slice(0, -nonce.length)
  }
  throw new Error(`no primary holds the nonce ${nonce}`)
}
/** A fresh nonce (a UUID: nothing in it is percent-encoded) whose key falls in a slot `wanted` accepts. */
function nonceWhere(wanted: (slot: number) => boolean): string {
  for (;;) {
    const nonce = randomUUID()
    if (wanted(calculateSlot(noncePrefix + nonce))) return nonce
  }
}
const nonceInSlot = (slot: number) => nonceWhere((s) => s === slot)
const nonceOn = (node: ClusterNode) => nonceWhere((s) => node.slots.some(([from, to]) => s >= from && s <= to))
async function primaries(): Promise<ClusterNode[]> {
  return (await cluster.nodes()).filter((n) => n.role === 'master')
}
async function ownerOf(slot: number): Promise<ClusterNode> {
  const owner = await cluster.ownerOf(slot)
  if (!owner) throw new Error(`no primary serves slot ${slot}`)
  return owner
}

t.test('a 40-way replay race across two gateway processes is accepted exactly once, whichever primary holds the nonce', async (t) => {
  for (const primary of [...(await primaries()), ...(await primaries())]) {
    const timestamp = String(Date.now())
    const nonce = nonceOn(primary)
    const before = gets()
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => send(i % 2 ? b : a, { path: '/v2/accounts', key, timestamp, nonce })))
    const statuses = results.map((r) => r.status)
    t.same([statuses.filter((s) => s === 200).length, statuses.filter((s) => s === 401).length], [1, 39], `primary ${primary.port}: one accepted, 39 replays (${summary(results.map((r) => ({ ...r, at: 0 })))})`)
    t.equal(gets() - before, 1, 'the backend saw it once')
  }
})

t.test('nonces and idempotency records spread over the primaries, each confirmed by its replica', async (t) => {
  for (let i = 0; i < 60; i++) t.equal((await send(i % 2 ? b : a, { path: '/v2/accounts', key })).status, 200)
  for (let i = 0; i < 30; i++) {
    const res = await send(i % 2 ? b : a, { method: 'POST', path: WITHDRAWAL, key, body: JSON.stringify({ idempotencyKey: randomUUID(), amount: '1' }) })
    t.equal(res.status, 201)
  }
  const all = await primaries()
  t.equal(all.length, 3)
  for (const primary of all) {
    const redis = client(primary.port)
    t.teardown(() => redis.disconnect())
    const count = async (pattern: string) => (await redis.keys(pattern)).length
    t.ok((await count('nlgw:nonce:*')) > 0, `primary ${primary.port} holds nonces`)
    t.ok((await count('nlgw:idem:*')) > 0, `primary ${primary.port} holds idempotency records`)
  }
})

t.test('WAIT goes to the primary that owns the slot: its replica frozen, only its slots are refused', async (t) => {
  const [owner, elsewhere] = (await primaries()) as [ClusterNode, ClusterNode]
  const replica = (await cluster.nodes()).find((n) => n.primaryId === owner.id)
  if (!replica) throw new Error(`no replica of ${owner.port}`)
  cluster.server(replica.port).pause()
  t.teardown(() => cluster.server(replica.port).resume())
  t.equal((await send(a, { path: '/v2/accounts', key, nonce: nonceOn(owner) })).status, 503, `primary ${owner.port}: its replica is frozen`)
  t.equal((await send(b, { path: '/v2/accounts', key, nonce: nonceOn(elsewhere) })).status, 200, `primary ${elsewhere.port}: another primary, another replica`)
  cluster.server(replica.port).resume()
  await until(async () => (await send(a, { path: '/v2/accounts', key, nonce: nonceOn(owner) })).status === 200, { timeoutMs: 5000, everyMs: 50, what: 'its slots served again' })
})

t.test('a slot migrated between primaries: new nonces follow ASK, then MOVED; nonces written before stay used', async (t) => {
  const slot = calculateSlot('mig')
  const source = await ownerOf(slot)
  const target = (await cluster.nodes()).find((n) => n.role === 'master' && n.id !== source.id)
  if (!target) throw new Error('no second primary')
  const [from, to] = [client(source.port), client(target.port)]
  t.teardown(() => [from, to].forEach((c) => c.disconnect()))
  const sign = (url: string, nonce = nonceInSlot(slot), timestamp = String(Date.now())) => send(url, { path: '/v2/accounts', key, nonce, timestamp })
  const before = await sign(a)
  t.equal(before.status, 200, 'accepted before the migration')

  await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id)
  await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id)
  const during = await sign(b)
  t.equal(during.status, 200, 'a new nonce during the migration is written on the importing primary (ASK)')
  t.equal((await to.keys(`nlgw:nonce:*:${during.nonce}`)).length, 1, 'and it is there')
  t.equal((await sign(a, before.nonce, before.timestamp)).status, 401, 'a nonce still on the source is a replay')

  const keys = (await from.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[]
  if (keys.length) await from.call('MIGRATE', '127.0.0.1', target.port, '', 0, 5000, 'KEYS', ...keys)
  for (const node of (await cluster.nodes()).filter((n) => n.role === 'master')) {
    const redis = client(node.port)
    await redis.call('CLUSTER', 'SETSLOT', slot, 'NODE', target.id)
    redis.disconnect()
  }
  await until(async () => (await cluster.ownerOf(slot))?.id === target.id, { timeoutMs: 5000, what: 'the slot owned by the target' })
  t.equal((await sign(a)).status, 200, 'a new nonce after the migration is written on the new owner (MOVED)')
  t.equal((await sign(b, before.nonce, before.timestamp)).status, 401, 'the nonce written before the migration moved with its slot')
  t.equal((await sign(a, during.nonce, during.timestamp)).status, 401, 'and so did the one written during it')
})

t.test('a primary killed under load: its replica takes over, the old primary returns as a replica; only 503s meanwhile', async (t) => {
  const owner = (await primaries())[0] as ClusterNode
  const accepted = await send(a, { path: '/v2/accounts', key, nonce: nonceOn(owner) })
  t.equal(accepted.status, 200)
  // Aimed at the slots the killed primary served, wherever they move.
  const load = new SteadyLoad([a, b], { request: (url) => send(url, { path: '/v2/accounts', key, nonce: nonceOn(owner) }) })
  t.teardown(() => load.stop())
  await until(() => load.results.length > 20, { timeoutMs: 10_000, what: 'load under way' })
  const killedAt = Date.now()
  const server = cluster.server(owner.port)
  await server.stop()
  const [slot] = owner.slots[0] as [number, number]
  await until(async () => ((await cluster.ownerOf(slot))?.id ?? owner.id) !== owner.id, { timeoutMs: 15_000, everyMs: 100, what: 'the replica promoted' })
  // Back with its nodes.conf, it finds its slots taken over and becomes the new primary's replica.
  await server.start()
  const recoveryMs = await load.recovered(killedAt, { timeoutMs: 30_000 })
  const results = await load.stop()
  t.comment(`cluster, replicated: the slots of primary ${owner.port} served again ${recoveryMs} ms after its primary was killed; ${summary(results)}`)
  t.same(results.filter((r) => ![200, 503].includes(r.status)), [], 'nothing but 200 and 503')
  const replay = await send(b, { path: '/v2/accounts', key, nonce: accepted.nonce, timestamp: accepted.timestamp })
  t.equal(replay.status, 401, 'the nonce accepted before the kill is a replay on the promoted replica')
})
