/**
 * `npm run bench:durability`: what `redis.durability: replicated` costs, on a
 * Redis primary with one replica. First the nonce store alone (claims from
 * this process, 1 and 32 at a time), then the demo legacy exchange behind two
 * gateways that differ only in durability (HMAC, the mapped
 * GET /accounts/{id}/balances). Runs alternate between async and replicated,
 * round after round, so that a shared and noisy machine weighs on both
 * alike; the tables have every run, the findings the medians.
 * BENCH_STORE_SECONDS and BENCH_HTTP_SECONDS set each run, BENCH_RATE the
 * fixed rate of the HTTP latency runs (open loop), BENCH_ROUNDS the rounds,
 * BENCH_PORT the first of seven loopback ports. Written to bench/DURABILITY.md.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { stringify } from 'yaml'
import { DURABILITIES, type Durability } from '../src/config/schema.js'
import { RedisNonceStore } from '../src/nonce/redis.js'
import { createRedisClient, redisReady } from '../src/redis.js'
import { createRedisWriter } from '../src/redis-writes.js'
import { createSigner, type SigningScheme } from '../src/signing/index.js'
import { measure, type Target } from './http.js'
import { table, type Row } from './measure.js'
import { paced } from './paced.js'
import { signedRequests } from './pools.js'
import { benchDir, start, stopAll, until } from './procs.js'

const storeSeconds = Number(process.env.BENCH_STORE_SECONDS ?? 2)
const seconds = Number(process.env.BENCH_HTTP_SECONDS ?? 5)
const rate = Number(process.env.BENCH_RATE ?? 300)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const base = Number(process.env.BENCH_PORT ?? 18_400)
const USER = 'db5ed46a-d731-4218-9a7d-d85aa439222f' // Acme Trading, the seeded customer
const ACCOUNT = 'c2159935-4e32-406c-9de9-e1cd191c037f' // Acme Main
const root = new URL('../../', import.meta.url).pathname
const hmac: SigningScheme = { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }

const dir = benchDir('nlgw-bench-durability-')
// The primary writes an RDB file to sync its replica: into the bench's directory, not the working one.
const redisServer = (port: number, ...args: string[]) => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args], { stdio: 'ignore' })
const redis = [redisServer(base + 1), redisServer(base + 2, '--replicaof', '127.0.0.1', String(base + 1))]
const stopEverything = () => {
  stopAll()
  for (const child of redis) child.kill('SIGKILL')
}
process.on('exit', stopEverything)
process.on('SIGINT', () => process.exit(130))

writeFileSync(join(dir, 'credentials.yaml'), stringify({ credentials: [{ id: 'bench-hmac', apiKey: 'bench-hmac', secret: { env: 'BENCH_SECRET' }, subject: USER }] }))
const legacy = `http://127.0.0.1:${base}`
start('dist/examples/legacy-exchange/main.js', { env: { HOST: '127.0.0.1', LEGACY_PORT: String(base), LEGACY_LOG_LEVEL: 'error' } })
const signing = { apiKey: 'bench-hmac', signer: createSigner(hmac, 'bench-secret'), basePath: '/v2' }
const balances = `/v2/accounts/${ACCOUNT}/balances`
const targets: Target[] = DURABILITIES.map((durability, i) => {
  const config = join(dir, `${durability}.yaml`)
  writeFileSync(
    config,
    stringify({
      server: { host: '127.0.0.1', basePath: '/v2' },
      redis: { url: `redis://127.0.0.1:${base + 1}`, durability },
      auth: { scheme: hmac, credentials: [{ file: 'credentials.yaml' }], timestampWindow: '60s' },
      upstream: { url: legacy, subjectHeader: 'x-legacy-user', connections: 64 },
      mappings: [join(root, 'config/demo/mappings')],
      logging: { level: 'warn' },
    }),
  )
  const port = base + 3 + 2 * i
  return {
    name: `HMAC, Redis nonces, ${durability}`,
    url: `http://127.0.0.1:${port}`,
    proc: start('dist/plugins/server.js', { env: { NLGW_CONFIG: config, BENCH_SECRET: 'bench-secret', PORT: String(port), METRICS_PORT: String(port + 1) } }),
    requests: (count: number) => signedRequests(signing, 'GET', balances, count),
  }
})
await Promise.all([until(`${legacy}/internal/v1/tokens`), ...targets.map((_, i) => until(`http://127.0.0.1:${base + 4 + 2 * i}/readyz`))])
const replica = new Redis(base + 2, '127.0.0.1')
while (!(await replica.info('replication')).includes('master_link_status:up')) await new Promise((r) => setTimeout(r, 100))
replica.disconnect()

/** Nonce claims for `storeSeconds`, `concurrency` at a time, through the gateway's own store and writer. */
async function claims(durability: Durability, concurrency: number): Promise<Row> {
  const client = createRedisClient(`redis://127.0.0.1:${base + 1}`)
  const store = new RedisNonceStore(createRedisWriter(client, { durability, waitTimeoutMs: 250 }))
  await redisReady(client, 5000)
  const latencies: number[] = []
  const end = performance.now() + storeSeconds * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const started = performance.now()
        await store.claim('bench', randomUUID(), 60_000)
        latencies.push(performance.now() - started)
      }
    }),
  )
  client.disconnect()
  latencies.sort((a, b) => a - b)
  const at = (q: number) => Number((latencies[Math.floor(q * (latencies.length - 1))] as number).toFixed(3))
  return { durability, concurrency, 'claims/s': Math.round(latencies.length / storeSeconds), 'p50 ms': at(0.5), 'p99 ms': at(0.99) }
}
const storeRows: Row[] = []
for (let round = 1; round <= rounds; round++) {
  for (const concurrency of [1, 32]) for (const durability of DURABILITIES) storeRows.push({ round, ...(await claims(durability, concurrency)) })
}

const out: string[] = []
const print = (text: string) => {
  console.log(text)
  out.push(text)
}
const rows: Row[] = []
for (let round = 1; round <= rounds; round++) {
  for (const target of targets) {
    await measure(dir, target, 1, {}, 3000) // warm-up
    const max = await measure(dir, target, seconds, {}, 3000)
    const pool = target.requests(Math.ceil(rate * seconds) + 10)
    let next = 0
    const fixed = await paced(target.url, seconds, rate, () => pool[next++ % pool.length] as (typeof pool)[number])
    rows.push({ round, configuration: target.name, 'max req/s': Math.round(max.rps), 'p50 ms at max': max.p50, 'p99 ms at max': max.p99, [`p50 ms at ${rate}/s`]: fixed.p50, [`p99 ms at ${rate}/s`]: fixed.p99, errors: max.errors + fixed.errors })
  }
}
print(`# redis.durability: async and replicated side by side\n\n${new Date().toISOString().slice(0, 10)} — node ${process.version}, nproc ${availableParallelism()}; ${rounds} rounds; load average ${loadavg()[0]?.toFixed(1)} at the end; primary, replica, backend, gateways and load generator share the machine.\n`)
print(`## The nonce store alone, ${storeSeconds} s per run\n`)
print(table(storeRows))
const median = (of: Row[], column: string) => {
  const values = of.map((r) => Number(r[column])).sort((a, b) => a - b)
  return values[Math.floor(values.length / 2)] as number
}
const compare = (label: string, select: (durability: Durability) => Row[], columns: string[]) => {
  for (const column of columns) {
    const [a, r] = DURABILITIES.map((d) => median(select(d), column)) as [number, number]
    print(`- ${label}, median ${column}: async ${a}, replicated ${r} (${/req|claims/.test(column) ? `${((r / a) * 100).toFixed(0)}% of async` : `${(r - a).toFixed(3)} ms added`})`)
  }
}
print('')
for (const concurrency of [1, 32]) compare(`${concurrency} at a time`, (d) => storeRows.filter((r) => r.durability === d && r.concurrency === concurrency), ['claims/s', 'p50 ms', 'p99 ms'])
print(`\n## Through a gateway, ${seconds} s per run: maximum (32 connections, closed loop) and latency at ${rate} req/s (open loop)\n`)
print(table(rows))
print('')
compare('gateway', (d) => rows.filter((r) => r.configuration === `HMAC, Redis nonces, ${d}`), ['max req/s', 'p50 ms at max', 'p99 ms at max', `p50 ms at ${rate}/s`, `p99 ms at ${rate}/s`])
writeFileSync(new URL('../../bench/DURABILITY.md', import.meta.url), out.join('\n') + '\n')
stopEverything()
process.exit(0)
