/**
 * The HTTP benchmark: in one run, against the same demo legacy exchange, the
 * backend direct, nginx (the ceiling anchor), a bare @fastify/http-proxy, the
 * hand-written adapter a user would write instead (bench/handwritten.ts) and
 * the gateway in several configurations, on the mapped
 * `GET /accounts/{id}/balances`. For each: req/s, latency, and the CPU each
 * process spends per request (/proc), which is what stays comparable on
 * shared cores; then half-load latency with the load generator and the
 * gateway pinned to different cores, and allocation per request.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { createSigner, type SigningScheme } from '../src/signing/index.js'
import type { Row } from './measure.js'
import { startNginx } from './nginx.js'
import { paced } from './paced.js'
import { plainRequests, signedRequests, type Signing } from './pools.js'
import { benchDir, rssMb, start, stop, until } from './procs.js'
import { rawRequest, wrk, writePool, type RawRequest, type WrkRun } from './wrk.js'

export const USER = 'db5ed46a-d731-4218-9a7d-d85aa439222f' // Acme Trading, the seeded customer
export const ACCOUNT = 'c2159935-4e32-406c-9de9-e1cd191c037f' // Acme Main
const BALANCES = `/v2/accounts/${ACCOUNT}/balances`
const BACKEND_BALANCES = `/internal/v1/users/${USER}/accounts/${ACCOUNT}/wallets`
const HMAC_SECRET = 'bench-secret'

export const SCHEMES = {
  hmac: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' },
  rsa: { algorithm: 'rsa', hash: 'sha256', preEncoding: 'url-encoded', postEncoding: 'base64' },
  p256: { algorithm: 'ecdsa', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' },
  k1: { algorithm: 'ecdsa', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' },
} satisfies Record<string, SigningScheme>
export type SchemeName = keyof typeof SCHEMES

/** One credential per scheme, for the seeded customer; keys made for this run. */
export function benchCredentials(dir: string, subject = USER): Record<SchemeName, Signing> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
  const pem = (k: { export(o: object): string | Buffer }, type: string) => String(k.export({ type, format: 'pem' }))
  writeFileSync(join(dir, 'hmac.secret'), HMAC_SECRET)
  writeFileSync(
    join(dir, 'credentials.yaml'),
    stringify({
      credentials: [
        { id: 'bench-hmac', apiKey: 'bench-hmac', secret: { file: 'hmac.secret' }, subject },
        { id: 'bench-rsa', apiKey: 'bench-rsa', publicKey: pem(rsa.publicKey, 'spki'), subject, scheme: SCHEMES.rsa },
        { id: 'bench-p256', apiKey: 'bench-p256', publicKey: pem(p256.publicKey, 'spki'), subject, scheme: SCHEMES.p256 },
        { id: 'bench-k1', apiKey: 'bench-k1', publicKey: pem(k1.publicKey, 'spki'), subject, scheme: SCHEMES.k1 },
      ],
    }),
  )
  const signing = (name: SchemeName, key: string): Signing => ({ apiKey: `bench-${name}`, signer: createSigner(SCHEMES[name], key), basePath: '/v2' })
  return { hmac: signing('hmac', HMAC_SECRET), rsa: signing('rsa', pem(rsa.privateKey, 'pkcs8')), p256: signing('p256', pem(p256.privateKey, 'pkcs8')), k1: signing('k1', pem(k1.privateKey, 'pkcs8')) }
}

/** A gateway config as YAML beside the credentials; access logs on, as in production. */
export function gatewayConfig(options: { upstream: string; mappings: string; redis?: string; workers?: number; extra?: object }): object {
  return {
    server: { host: '127.0.0.1', basePath: '/v2', ...(options.workers ? { workers: options.workers } : {}) },
    ...(options.redis ? { redis: { url: options.redis } } : {}),
    // Throughput runs push thousands of nonces a second: the memory store is sized for that here.
    auth: { scheme: SCHEMES.hmac, credentials: [{ file: 'credentials.yaml' }], timestampWindow: '60s', nonceStore: { maxEntries: 2_000_000 } },
    upstream: { url: options.upstream, subjectHeader: 'x-legacy-user', connections: 64 },
    mappings: [options.mappings],
    logging: { level: 'info' },
    ...options.extra,
  }
}

export interface Target {
  name: string
  url: string
  /** The process whose CPU per request is the row's figure. */
  proc: ChildProcess
  requests: (count: number) => RawRequest[]
}

export interface Measured extends WrkRun {
  rssMb: number
}

/** wrk's LuaJIT holds the pool twice (the file, then one string per request) and panics out of memory near 1 GB. */
const POOL_BYTES = 256 * 2 ** 20

/**
 * One closed-loop run; a signed pool is sized from the last run's rate and
 * redone larger if it ran out. A pool that would pass POOL_BYTES (large
 * bodies) is cut to it and the run shortened in proportion, rather than
 * replaying nonces.
 */
export async function measure(dir: string, target: Target, seconds: number, others: Record<string, ChildProcess>, expectedRps: number): Promise<Measured> {
  const pool = join(dir, `${target.name.replace(/\W+/g, '-')}.pool`)
  const host = new URL(target.url).host
  const processes = { proxy: target.proc.pid as number, ...Object.fromEntries(Object.entries(others).map(([n, p]) => [n, p.pid as number])) }
  const fits = Math.floor(POOL_BYTES / rawRequest(host, target.requests(1)[0] as RawRequest).length)
  let count = Math.ceil(expectedRps * seconds * 1.5) + 1000
  for (let attempt = 0; ; attempt++) {
    const built = Math.min(count, fits)
    writePool(pool, host, target.requests(built))
    const run = await wrk(target.url, pool, Math.max(1, Math.floor((seconds * built) / count)), processes)
    if (run.errors === 0 || attempt === 2 || run.requests < built * 0.9) return { ...run, rssMb: rssMb(target.proc) }
    count = Math.max(count * 2, Math.ceil(run.rps * seconds * 1.5))
  }
}

export interface HttpBench {
  rows: Row[]
  latency: Row[]
  findings: string[]
}

export async function httpBench(seconds: number, { base }: { base: number }): Promise<HttpBench> {
  const dir = benchDir('nlgw-bench-')
  const port = (i: number) => base + i
  const backendUrl = `http://127.0.0.1:${port(0)}`
  const redisUrl = `redis://127.0.0.1:${port(1)}`
  const backend = start('dist/examples/legacy-exchange/main.js', { env: { HOST: '127.0.0.1', LEGACY_PORT: String(port(0)), LEGACY_LOG_LEVEL: 'error' } })
  const redis = start(['redis-server', '--port', String(port(1)), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'])
  const bare = start('dist/bench/bare-proxy.js', { env: { UPSTREAM: backendUrl, PORT: String(port(2)) } })
  const nginx = startNginx(dir, port(3), backendUrl)
  const handwritten = start('dist/bench/handwritten.js', { env: { UPSTREAM: backendUrl, PORT: String(port(4)), REDIS_URL: redisUrl, SECRET: HMAC_SECRET, SUBJECT: USER } })
  const signing = benchCredentials(dir)
  const mappings = join(new URL('../../', import.meta.url).pathname, 'config/demo/mappings')
  writeFileSync(join(dir, 'memory.yaml'), stringify(gatewayConfig({ upstream: backendUrl, mappings })))
  writeFileSync(join(dir, 'redis.yaml'), stringify(gatewayConfig({ upstream: backendUrl, mappings, redis: redisUrl })))
  writeFileSync(join(dir, 'workers.yaml'), stringify(gatewayConfig({ upstream: backendUrl, mappings, redis: redisUrl, workers: 2 })))
  // 2,000,000 in-memory nonces need ~360 MB of heap, which the shipped 128 MB refuses at start-up.
  const memory = start('dist/plugins/server.js', { env: { NLGW_CONFIG: join(dir, 'memory.yaml'), PORT: String(port(5)), METRICS_PORT: String(port(6)) }, nodeOptions: '--max-old-space-size=768 --max-semi-space-size=8' })
  const withRedis = start('dist/plugins/server.js', { env: { NLGW_CONFIG: join(dir, 'redis.yaml'), PORT: String(port(7)), METRICS_PORT: String(port(8)) } })
  const workers = start('dist/plugins/server.js', { env: { NLGW_CONFIG: join(dir, 'workers.yaml'), PORT: String(port(11)), METRICS_PORT: String(port(12)) } })
  // Another build on the same config (BENCH_BASE_DIST=<its dist/>): before and after a change, in one run.
  const baseDist = process.env.BENCH_BASE_DIST
  const baseBuild = baseDist ? start(join(baseDist, 'plugins/server.js'), { env: { NLGW_CONFIG: join(dir, 'redis.yaml'), PORT: String(port(13)), METRICS_PORT: String(port(14)) } }) : undefined
  await Promise.all([
    until(`${backendUrl}/internal/v1/tokens`),
    until(`http://127.0.0.1:${port(2)}/v2/internal/v1/tokens`),
    until(`http://127.0.0.1:${port(6)}/readyz`),
    until(`http://127.0.0.1:${port(8)}/readyz`),
    until(`http://127.0.0.1:${port(12)}/readyz`),
    ...(baseBuild ? [until(`http://127.0.0.1:${port(14)}/readyz`)] : []),
    until(`http://127.0.0.1:${port(4)}/v2/accounts/x/balances`),
    ...(nginx ? [until(`http://127.0.0.1:${port(3)}/v2/internal/v1/tokens`)] : []),
  ])
  const findings: string[] = []
  const plain = (path: string) => (count: number) => plainRequests('GET', path, { 'x-legacy-user': USER }, Math.min(count, 100))
  const signed = (scheme: SchemeName) => (count: number) => signedRequests(signing[scheme], 'GET', BALANCES, count)

  // The hand-written adapter must give the same answer, or the comparison means nothing.
  const first = async (url: string) => {
    const [request] = signed('hmac')(1)
    const res = await fetch(`${url}${BALANCES}`, { headers: request?.headers })
    return res.text()
  }
  const [fromGateway, fromAdapter] = [await first(`http://127.0.0.1:${port(7)}`), await first(`http://127.0.0.1:${port(4)}`)]
  findings.push(`The hand-written adapter's answer is ${JSON.stringify(JSON.parse(fromGateway)) === JSON.stringify(JSON.parse(fromAdapter)) ? 'identical to' : 'DIFFERENT from'} the gateway's (${fromGateway.length} bytes).`)

  const targets: Target[] = [
    { name: 'backend direct', url: backendUrl, proc: backend, requests: plain(BACKEND_BALANCES) },
    ...(nginx ? [{ name: 'nginx, 1 worker, keep-alive upstream', url: `http://127.0.0.1:${port(3)}`, proc: nginx, requests: plain(`/v2${BACKEND_BALANCES}`) }] : []),
    { name: 'bare @fastify/http-proxy', url: `http://127.0.0.1:${port(2)}`, proc: bare, requests: plain(`/v2${BACKEND_BALANCES}`) },
    { name: 'hand-written adapter (HMAC, Redis nonce, plain-JS mapping)', url: `http://127.0.0.1:${port(4)}`, proc: handwritten, requests: signed('hmac') },
    ...(baseBuild ? [{ name: `gateway HMAC, Redis nonces: base build (${baseDist})`, url: `http://127.0.0.1:${port(13)}`, proc: baseBuild, requests: signed('hmac') }] : []),
    { name: 'gateway HMAC, Redis nonces', url: `http://127.0.0.1:${port(7)}`, proc: withRedis, requests: signed('hmac') },
    { name: 'gateway HMAC, Redis nonces, 2 workers', url: `http://127.0.0.1:${port(11)}`, proc: workers, requests: signed('hmac') },
    { name: 'gateway HMAC, memory nonces', url: `http://127.0.0.1:${port(5)}`, proc: memory, requests: signed('hmac') },
    { name: 'gateway RSA-2048, memory nonces', url: `http://127.0.0.1:${port(5)}`, proc: memory, requests: signed('rsa') },
    { name: 'gateway ECDSA P-256, memory nonces', url: `http://127.0.0.1:${port(5)}`, proc: memory, requests: signed('p256') },
    { name: 'gateway ECDSA secp256k1, memory nonces', url: `http://127.0.0.1:${port(5)}`, proc: memory, requests: signed('k1') },
  ]
  const runs = new Map<string, Measured>()
  let expected = 5000
  for (const target of targets) {
    await measure(dir, target, 1, {}, expected) // warm-up
    const run = await measure(dir, target, seconds, { backend, redis }, expected)
    runs.set(target.name, run)
    expected = Math.max(run.rps, 2000)
  }
  const bareRun = runs.get('bare @fastify/http-proxy') as Measured
  const adapterRun = runs.get('hand-written adapter (HMAC, Redis nonce, plain-JS mapping)') as Measured
  const rows: Row[] = targets.map((target) => {
    const run = runs.get(target.name) as Measured
    return {
      configuration: target.name,
      'req/s': Math.round(run.rps),
      'p50 ms': run.p50,
      'p99 ms': run.p99,
      'CPU µs/req': Math.round(run.cpuUs.proxy ?? 0),
      'vs bare proxy CPU': (run.cpuUs.proxy ?? 0) / (bareRun.cpuUs.proxy ?? 1),
      'vs hand-written CPU': (run.cpuUs.proxy ?? 0) / (adapterRun.cpuUs.proxy ?? 1),
      'backend µs/req': Math.round(run.cpuUs.backend ?? 0),
      'Redis µs/req': Math.round(run.cpuUs.redis ?? 0),
      'RSS MB': run.rssMb,
      errors: run.errors,
    }
  })
  const gw = runs.get('gateway HMAC, Redis nonces') as Measured
  const vsBare = (gw.cpuUs.proxy ?? 0) / (bareRun.cpuUs.proxy ?? 1)
  const vsAdapter = (gw.cpuUs.proxy ?? 0) / (adapterRun.cpuUs.proxy ?? 1)
  findings.push(`CPU per request, gateway (HMAC, Redis nonces, mapped balances, access logs on) vs bare proxy: ${vsBare.toFixed(2)}× (target ≤ 1.0×: ${vsBare <= 1 ? 'met' : 'NOT met'}).`)
  findings.push(`CPU per request, gateway vs the hand-written adapter: ${vsAdapter.toFixed(2)}× (floor ≤ 1.1×: ${vsAdapter <= 1.1 ? 'met' : 'NOT met'}).`)
  const two = runs.get('gateway HMAC, Redis nonces, 2 workers') as Measured
  findings.push(
    `Two workers (server.workers: 2) on this 2-core machine, shared with wrk, the backend and Redis: ${Math.round(two.rps).toLocaleString('en-US')} req/s against ${Math.round(gw.rps).toLocaleString('en-US')} for one process (${(two.rps / gw.rps).toFixed(2)}×), ${Math.round(two.cpuUs.proxy ?? 0)} against ${Math.round(gw.cpuUs.proxy ?? 0)} CPU µs per request (primary and workers together).`,
  )

  const latency = await halfLoadLatency(seconds, [
    { name: 'gateway HMAC, Redis nonces', url: `http://127.0.0.1:${port(7)}`, proc: withRedis, requests: signed('hmac'), max: gw.rps },
    { name: 'bare @fastify/http-proxy', url: `http://127.0.0.1:${port(2)}`, proc: bare, requests: plain(`/v2${BACKEND_BALANCES}`), max: bareRun.rps },
  ], { name: 'backend direct', url: backendUrl, proc: backend, requests: plain(BACKEND_BALANCES) })
  findings.push(...latency.findings)

  const allocation = await allocationPerRequest(
    dir,
    seconds,
    { script: 'dist/plugins/server.js', env: { NLGW_CONFIG: join(dir, 'redis.yaml'), PORT: String(port(9)), METRICS_PORT: String(port(10)) }, ready: `http://127.0.0.1:${port(10)}/readyz`, url: `http://127.0.0.1:${port(9)}` },
    signed('hmac'),
    gw.rps,
  )
  const adapterAllocation = await allocationPerRequest(
    dir,
    seconds,
    { script: 'dist/bench/handwritten.js', env: { UPSTREAM: backendUrl, PORT: String(port(15)), REDIS_URL: redisUrl, SECRET: HMAC_SECRET, SUBJECT: USER }, ready: `http://127.0.0.1:${port(15)}/v2/accounts/x/balances`, url: `http://127.0.0.1:${port(15)}` },
    signed('hmac'),
    adapterRun.rps,
  )
  findings.push(
    `Allocation per request on the mapped route (V8 --trace-gc-nvp, bytes allocated between collections over ${allocation.requests.toLocaleString('en-US')} requests): gateway HMAC + Redis ${(allocation.bytes / 1024).toFixed(1)} KB (target ≤ 16 KB: ${allocation.bytes <= 16 * 1024 ? 'met' : 'NOT met'}); the hand-written adapter ${(adapterAllocation.bytes / 1024).toFixed(1)} KB.`,
  )
  for (const p of [backend, redis, bare, handwritten, memory, withRedis, workers, ...(baseBuild ? [baseBuild] : []), ...(nginx ? [nginx] : [])]) stop(p)
  return { rows, latency: latency.rows, findings }
}

/**
 * Open loop at half of each target's own maximum, three runs. The load
 * generator (this process) is pinned to CPU 0 and the target to CPU 1, so the
 * figure measures the target rather than the scheduler; the backend and Redis
 * share CPU 0 with the generator. Added p99 = target minus the backend direct
 * at the same rate.
 */
async function halfLoadLatency(seconds: number, targets: Array<Target & { max: number }>, direct: Target): Promise<{ rows: Row[]; findings: string[] }> {
  const pin = (pid: number, cpus: string) => execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' })
  const cpus = Number(execFileSync('nproc').toString().trim())
  const rows: Row[] = []
  const findings: string[] = []
  if (cpus < 2) return { rows, findings: ['Half-load latency needs two CPUs to pin generator and gateway apart; skipped.'] }
  pin(process.pid, '0')
  try {
    for (const target of targets) {
      const rate = Math.round(target.max / 2)
      const p99s: number[] = []
      const added: number[] = []
      for (let run = 1; run <= 3; run++) {
        pin(target.proc.pid as number, '1')
        const pool = target.requests(Math.ceil(rate * seconds) + 10)
        let next = 0
        const half = await paced(target.url, seconds, rate, () => pool[next++ % pool.length] as RawRequest)
        pin(target.proc.pid as number, `0-${cpus - 1}`)
        const directPool = direct.requests(100)
        const base = await paced(direct.url, seconds, rate, () => directPool[next++ % directPool.length] as RawRequest)
        p99s.push(half.p99)
        added.push(half.p99 - base.p99)
        rows.push({ configuration: target.name, run, 'rate req/s': rate, 'p50 ms': half.p50, 'p99 ms': half.p99, 'backend direct p99 ms': base.p99, 'added p99 ms': half.p99 - base.p99, errors: half.errors })
      }
      const spread = `${Math.min(...added).toFixed(2)}–${Math.max(...added).toFixed(2)} ms`
      findings.push(`${target.name}: p99 added at half load (${rate} req/s, generator and target on different cores), 3 runs: ${spread}${target.name.startsWith('gateway') ? ` (target < 2 ms: ${Math.max(...added) < 2 ? 'met' : 'NOT met'})` : ''}.`)
    }
  } finally {
    pin(process.pid, `0-${cpus - 1}`)
  }
  return { rows, findings }
}

/** Bytes V8 allocates per request: the sum of `allocated=` over the collections during a run, over the requests answered. */
async function allocationPerRequest(dir: string, seconds: number, server: { script: string; env: NodeJS.ProcessEnv; ready: string; url: string }, requests: (n: number) => RawRequest[], rps: number): Promise<{ bytes: number; requests: number }> {
  const child = spawn(process.execPath, ['--trace-gc-nvp', '--max-old-space-size=128', '--max-semi-space-size=8', join(new URL('../../', import.meta.url).pathname, server.script)], {
    env: { PATH: process.env.PATH, ...server.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let allocated = 0
  let buffered = ''
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) allocated += Number(/ allocated=(\d+)/.exec(line)?.[1] ?? 0)
  })
  await until(server.ready)
  const target: Target = { name: 'allocation', url: server.url, proc: child, requests }
  await measure(dir, target, 1, {}, rps)
  const before = allocated
  const run = await measure(dir, target, seconds, {}, rps)
  const bytes = (allocated - before) / Math.max(1, run.requests)
  child.kill('SIGKILL')
  return { bytes, requests: run.requests }
}
