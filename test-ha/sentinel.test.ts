import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { send } from '../test/helpers/client.js'
import { until } from '../test/helpers/poll.js'
import { RedisServer } from '../test/helpers/redis.js'
import { Sentinels } from '../test/helpers/redis-ha.js'
import { failures, key, payoutBackend, startGateways, SteadyLoad, stopGateways, summary, WITHDRAWAL } from './harness.js'

/**
 * Sentinel: one primary, one replica, three sentinels (down after 1 s,
 * failover timeout 4 s), two gateway processes. The primary is killed under
 * steady signed load.
 */
const DOWN_AFTER_MS = 1000
const FAILOVER_TIMEOUT_MS = 4000
/** Once Redis is whole again, the gateways serve within this: their reconnect backoff is capped at 2 s. */
const GATEWAY_RECOVERY_MS = 10_000

async function topology(replicaCount: number) {
  const primary = await RedisServer.start()
  const replicas: RedisServer[] = []
  for (let i = 0; i < replicaCount; i++) replicas.push(await RedisServer.replicaOf(primary))
  const sentinels = await Sentinels.watch(primary, { replicas: replicaCount, downAfterMs: DOWN_AFTER_MS, failoverTimeoutMs: FAILOVER_TIMEOUT_MS })
  const servers = [primary, ...replicas]
  /**
   * Resolves once every sentinel names one primary (with `promotedOnly`: a
   * replica, promoted) and it has a replica in sync: Redis can confirm writes again. Read afresh
   * at each poll, so a topology that changes once more (Sentinel has been
   * seen to turn the promoted node back into a replica) is followed, not
   * waited on.
   */
  const whole = async (timeoutMs: number, { promotedOnly = false } = {}): Promise<RedisServer> => {
    let seen = ''
    return until(
      async () => {
        const ports = await sentinels.primaryPorts()
        const named = new Set(ports).size === 1 ? servers.find((server) => server.port === ports[0]) : undefined
        const info = named ? await named.replication() : ''
        seen = `sentinels name ${ports.join(', ')}; ${named ? `${named.port}: ${info.replace(/\r?\n/g, ' ')}` : ''}`
        if (!named || (promotedOnly && named === primary)) return false
        return (promotedOnly || (/^role:master\s*$/m.test(info) && /^slave\d+:.*state=online/m.test(info))) && named
      },
      { timeoutMs, everyMs: 100, what: () => `Redis whole again (${seen})` },
    )
  }
  return {
    primary,
    replica: replicas[0] as RedisServer,
    sentinels,
    /**
     * Once the primary is down (killed, or left to die), waits until the
     * sentinels promote a replica. With one replica, brings the old primary
     * back as the new one's replica, as a runbook would: `replicated` needs
     * a replica to confirm writes again (left to Sentinel, the returning node
     * is converted only when Sentinel next reads its INFO, up to 10 s later);
     * with more, Sentinel points the others at the promoted one. Resolves
     * once the new primary has a replica in sync, so that what follows
     * measures the gateway, not Redis: a failover whose first election
     * splits is retried only after twice the failover timeout, and a full
     * resync waits out Redis's repl-diskless-sync-delay (5 s).
     */
    async failedOver(): Promise<void> {
      const next = await whole(DOWN_AFTER_MS + 2 * FAILOVER_TIMEOUT_MS + 10_000, { promotedOnly: true })
      if (replicaCount === 1) await primary.start(['--replicaof', '127.0.0.1', String(next.port)])
      await whole(20_000)
    },
    /** After `SENTINEL FAILOVER`: a replica promoted, and one in sync with it (the demoted primary, or another replica). */
    async switchedOver(): Promise<void> {
      await whole(20_000, { promotedOnly: true })
      await whole(20_000)
    },
    async stop() {
      replicas.forEach((replica) => replica.resume())
      await Promise.all([sentinels.stop(), primary.stop(), ...replicas.map((replica) => replica.stop())])
    },
  }
}

/** A fresh Sentinel topology, a payout backend and two gateway processes on them, all stopped when `t` ends. */
async function sentinelSetup(t: Test, durability: 'async' | 'replicated', replicas = 1) {
  const redis = await topology(replicas)
  const backend = await payoutBackend()
  const gateways = await startGateways(2, { url: redis.sentinels.url, durability, waitTimeout: '250ms' }, backend)
  t.teardown(async () => {
    await stopGateways(gateways, t)
    await Promise.all([redis.stop(), backend.close()])
  })
  const [a, b] = gateways.map((g) => g.url) as [string, string]
  return { redis, backend, a, b }
}

for (const [durability, replicas] of [['async', 1], ['replicated', 1], ['replicated', 2]] as const) {
  t.test(`${durability}, ${replicas} replica${replicas > 1 ? 's' : ''}: the primary killed under load — only 503s during the switch, one execution of a retried POST`, async (t) => {
    const { redis, backend, a, b } = await sentinelSetup(t, durability, replicas)

    const idempotencyKey = randomUUID()
    const withdraw = (url: string) => send(url, { method: 'POST', path: WITHDRAWAL, key, body: JSON.stringify({ idempotencyKey, amount: '5' }) })
    const created = await withdraw(a)
    t.equal(created.status, 201, created.text)
    const accepted = await send(a, { path: '/v2/accounts', key })
    t.equal(accepted.status, 200, 'accepted just before the kill')

    const load = new SteadyLoad([a, b])
    // The same withdrawal retried at both instances throughout the failover, each time freshly signed.
    const retries = new SteadyLoad([b, a], { concurrency: 1, request: withdraw })
    t.teardown(() => Promise.all([load.stop(), retries.stop()]))
    await until(() => load.results.length > 50, { timeoutMs: 10_000, what: 'load under way' })
    const killedAt = Date.now()
    await redis.primary.stop()
    await redis.failedOver()
    const wholeAt = Date.now()
    const recoveryMs = await load.recovered(killedAt, { timeoutMs: GATEWAY_RECOVERY_MS })
    await until(() => retries.since(killedAt + recoveryMs).some((r) => r.status === 201), { timeoutMs: 10_000, what: 'the retried POST answered' })
    const results = await load.stop()
    const retried = await retries.stop()
    t.comment(`${durability}, ${replicas} replica(s): service back ${recoveryMs} ms after the primary was killed (Redis whole again after ${wholeAt - killedAt} ms); during the run ${summary(results)}: ${failures(results)}`)

    t.same(results.filter((r) => ![200, 503].includes(r.status)), [], 'nothing but 200 and 503')
    t.ok(load.since(killedAt).some((r) => r.status === 503), 'the switch showed as 503s')
    const replay = await send(b, { path: '/v2/accounts', key, timestamp: accepted.timestamp, nonce: accepted.nonce })
    t.equal(backend.requests.filter((r) => r.method === 'GET').length, results.filter((r) => r.status === 200).length + 1 + (replay.status === 200 ? 1 : 0), 'the backend saw exactly the accepted GETs')
    if (durability === 'replicated') t.same([replay.status, replay.json?.message], [401, 'Nonce already used'], 'the request accepted before the kill is a replay on the promoted replica')
    else t.comment(`async: the request accepted just before the kill, sent again after the failover: ${replay.status} ${replay.text}`)

    t.same(retried.filter((r) => ![201, 503].includes(r.status)), [], `retries answered 201 or 503 (${summary(retried)})`)
    t.ok(retried.filter((r) => r.status === 201).every((r) => r.text === created.text), 'every 201 is the stored answer')
    t.equal(backend.executions(), 1, 'the backend executed the withdrawal once')
  })
}

/**
 * A replica that has not received a write when its primary dies: frozen,
 * with 32 MB of unrelated data ahead of the nonce so that the nonce is
 * still in the primary's own output buffer (past what the kernel's socket
 * buffers hold) when the primary is killed.
 */
async function lagBehind(redis: Awaited<ReturnType<typeof topology>>): Promise<void> {
  redis.replica.pause()
  const client = redis.primary.client()
  try {
    await client.set('ballast', Buffer.alloc(32 * 1024 * 1024, 'x'))
  } finally {
    client.disconnect()
  }
}

for (const durability of ['async', 'replicated'] as const) {
  t.test(`${durability}: a request written to a primary that dies before its replica has it`, async (t) => {
    const { redis, backend, a, b } = await sentinelSetup(t, durability)
    t.equal((await send(a, { path: '/v2/accounts', key })).status, 200, 'ready')

    await lagBehind(redis)
    const first = await send(a, { path: '/v2/accounts', key })
    const signed = { path: '/v2/accounts', key, timestamp: first.timestamp, nonce: first.nonce }
    await redis.primary.stop()
    redis.replica.resume()
    await redis.failedOver()
    const answers: number[] = []
    await until(
      async () => {
        answers.push((await send(b, signed)).status)
        return answers.at(-1) !== 503
      },
      { timeoutMs: GATEWAY_RECOVERY_MS, everyMs: 100, what: 'an answer other than 503 from the promoted replica' },
    )
    answers.push((await send(b, signed)).status)
    const gets = backend.requests.filter((r) => r.method === 'GET').length - 1
    t.comment(`${durability}: first answer ${first.status}; the same signed request after the failover: ${answers.join(', ')}`)
    if (durability === 'async') {
      t.equal(first.status, 200, 'async: accepted on the primary alone')
      t.equal(answers.filter((s) => s === 200).length, 1, 'async: the same signed request is accepted again after the failover (the replay window)')
      t.equal(gets, 2, 'the backend executed it twice')
    } else {
      // A claim no replica confirmed is refused, but stays claimed where it was written: a retry
      // after the failover may be refused as a replay; it is never accepted twice.
      t.equal(first.status, 503, 'replicated: refused, because no replica confirmed the nonce')
      t.ok(answers.filter((s) => s === 200).length <= 1, 'accepted at most once')
      // Refused from then on: a replay (401), or 503 while the promoted primary's own replica cannot yet confirm.
      t.ok([401, 503].includes(answers.at(-1) as number), `and refused from then on (${answers.at(-1)})`)
      t.equal(gets, answers.filter((s) => s === 200).length, 'the backend executed exactly what was accepted')
    }
  })
}

/**
 * A planned switchover (`SENTINEL FAILOVER`, as for maintenance): the
 * primary stays up and is demoted to a replica of the promoted one, so a
 * gateway still connected to it would read it without error and have every
 * write refused. The gateways must follow the sentinels to the new primary.
 */
for (const replicas of [1, 2]) {
  t.test(`replicated, ${replicas} replica${replicas > 1 ? 's' : ''}: a planned switchover (SENTINEL FAILOVER) — the gateways follow the new primary, one execution of a retried POST`, async (t) => {
    const { redis, backend, a, b } = await sentinelSetup(t, 'replicated', replicas)
    const idempotencyKey = randomUUID()
    const withdraw = (url: string) => send(url, { method: 'POST', path: WITHDRAWAL, key, body: JSON.stringify({ idempotencyKey, amount: '5' }) })
    const created = await withdraw(a)
    t.equal(created.status, 201, created.text)

    const load = new SteadyLoad([a, b])
    const retries = new SteadyLoad([b, a], { concurrency: 1, request: withdraw })
    t.teardown(() => Promise.all([load.stop(), retries.stop()]))
    await until(() => load.results.length > 50, { timeoutMs: 10_000, what: 'load under way' })
    const switchedAt = Date.now()
    const sentinel = redis.sentinels.sentinels[0]?.client()
    t.teardown(() => sentinel?.disconnect())
    t.equal(await sentinel?.call('SENTINEL', 'FAILOVER', redis.sentinels.name), 'OK')
    await redis.switchedOver()
    const recoveryMs = await load.recovered(switchedAt, { timeoutMs: GATEWAY_RECOVERY_MS })
    await until(() => retries.since(switchedAt + recoveryMs).some((r) => r.status === 201), { timeoutMs: 10_000, what: 'the retried POST answered' })
    const results = await load.stop()
    const retried = await retries.stop()
    t.comment(`switchover, ${replicas} replica(s): service back ${recoveryMs} ms after SENTINEL FAILOVER; during the run ${summary(results)}: ${failures(results)}`)

    t.same(results.filter((r) => ![200, 503].includes(r.status)), [], 'nothing but 200 and 503')
    t.equal(backend.requests.filter((r) => r.method === 'GET').length, results.filter((r) => r.status === 200).length, 'the backend saw exactly the accepted GETs')
    t.same(retried.filter((r) => ![201, 503].includes(r.status)), [], `retries answered 201 or 503 (${summary(retried)})`)
    t.ok(retried.filter((r) => r.status === 201).every((r) => r.text === created.text), 'every 201 is the stored answer')
    t.equal(backend.executions(), 1, 'the backend executed the withdrawal once')
  })
}
