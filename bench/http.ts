/**
 * The HTTP benchmark: in one run, against the same demo legacy exchange, the
 * backend direct, a bare @fastify/http-proxy, and the gateway with HMAC and
 * in-memory nonces, HMAC and Redis nonces, RSA, ECDSA P-256 and secp256k1,
 * each on the mapped GET /accounts/{id}/balances and the static
 * GET /capabilities. Every request the gateway gets is freshly signed with a
 * unique nonce, pre-signed so the load generator is not the bottleneck.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import autocannon from 'autocannon'
import { stringify } from 'yaml'
import { createSigner, type Signer, type SigningScheme } from '../src/signing/index.js'
import type { Row } from './measure.js'
import { paced, type PacedRequest, type PacedRun as Run } from './paced.js'

const root = new URL('../../', import.meta.url).pathname
export const USER = 'db5ed46a-d731-4218-9a7d-d85aa439222f' // Acme Trading, the seeded customer
export const ACCOUNT = 'c2159935-4e32-406c-9de9-e1cd191c037f' // Acme Main

interface Target {
  name: string
  url: string
  /** The request target for each route, and how to sign it (gateway only). */
  paths: Record<Route, string>
  headers?: Record<string, string>
  signer?: { apiKey: string; signer: Signer }
  process?: ChildProcess
}
type Route = 'balances' | 'capabilities'

const children: ChildProcess[] = []
/** The heap flags the image, the manifests and `npm start` ship with. */
const NODE_OPTIONS = '--max-old-space-size=128 --max-semi-space-size=8'

/** `script` relative to the repository, or absolute (another build). */
export function start(script: string, env: NodeJS.ProcessEnv, nodeOptions = NODE_OPTIONS): ChildProcess {
  const child = spawn(process.execPath, [resolve(root, script)], { env: { PATH: process.env.PATH, NODE_OPTIONS: nodeOptions, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
  children.push(child)
  return child
}
export function stopAll(): void {
  for (const child of children) child.kill('SIGKILL')
}

export async function until(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fetch(url).then((r) => r.status < 500, () => false)) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${url} did not come up`)
}

/** One GET, freshly signed: its own timestamp and nonce. */
export function signedRequest(signer: Signer, apiKey: string, path: string): PacedRequest {
  const timestamp = String(Date.now())
  const nonce = randomUUID()
  return {
    path,
    headers: {
      'x-fbapi-key': apiKey,
      'x-fbapi-timestamp': timestamp,
      'x-fbapi-nonce': nonce,
      'x-fbapi-signature': signer.signRequest({ timestamp, nonce, method: 'GET', endpoint: path.slice('/v2'.length) }),
    },
  }
}

/** Requests for one run: fresh timestamp and nonce each, signed before the run starts. */
function signedPool(target: Target, route: Route, count: number): PacedRequest[] {
  const { apiKey, signer } = target.signer as NonNullable<Target['signer']>
  return Array.from({ length: count }, () => signedRequest(signer, apiKey, target.paths[route]))
}

/** Where each request of a run comes from: `poolSize` 0 signs each one as it is sent (cheap for HMAC; needed when a run outlasts the timestamp window). */
function requestSource(target: Target, route: Route, poolSize = 0): () => PacedRequest {
  if (!target.signer) {
    const request = { path: target.paths[route], headers: target.headers ?? {} }
    return () => request
  }
  if (poolSize === 0) return () => signedPool(target, route, 1)[0] as PacedRequest
  const pool = signedPool(target, route, poolSize)
  let next = 0
  return () => pool[next++ % pool.length] as PacedRequest
}

/** Closed loop at full speed: 32 connections, each sending its next request as soon as the last one is answered. */
async function load(target: Target, route: Route, seconds: number, poolSize = 0): Promise<Run> {
  const next = requestSource(target, route, poolSize)
  const result = await autocannon({
    url: target.url,
    connections: 32,
    duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, ...next() }) }],
  })
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts + result.non2xx }
}

/** Open loop at a fixed rate (see paced.ts). */
function atRate(target: Target, route: Route, seconds: number, rate: number, poolSize = 0): Promise<Run> {
  return paced(target.url, seconds, rate, requestSource(target, route, poolSize))
}

function rssMb(child: ChildProcess | undefined): number | undefined {
  if (!child?.pid) return undefined
  if (child.exitCode !== null || child.signalCode !== null) throw new Error(`a gateway under test died (${child.exitCode ?? child.signalCode}); its stderr is above`)
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024)
}

export interface HttpBench {
  rows: Row[]
  findings: string[]
}

export async function httpBench(seconds: number, ports: { base: number }): Promise<HttpBench> {
  const dir = mkdtempSync(join(tmpdir(), 'nlgw-bench-'))
  const port = (i: number) => ports.base + i
  const legacy = `http://127.0.0.1:${port(0)}`
  start('dist/examples/legacy-exchange/main.js', { HOST: '127.0.0.1', LEGACY_PORT: String(port(0)), LEGACY_LOG_LEVEL: 'error' })
  const redis = spawn('redis-server', ['--port', String(port(1)), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  children.push(redis)
  start('dist/bench/bare-proxy.js', { UPSTREAM: legacy, PORT: String(port(2)) })

  // Bench credentials, one per scheme, acting for the seeded customer.
  const schemes: Record<string, SigningScheme> = {
    hmac: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' },
    rsa: { algorithm: 'rsa', hash: 'sha256', preEncoding: 'url-encoded', postEncoding: 'base64' },
    p256: { algorithm: 'ecdsa', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' },
    k1: { algorithm: 'ecdsa', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' },
  }
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
  const pem = (k: { export(o: object): string | Buffer }, type: string) => String(k.export({ type, format: 'pem' }))
  writeFileSync(join(dir, 'hmac.secret'), 'bench-secret')
  writeFileSync(
    join(dir, 'credentials.yaml'),
    stringify({
      credentials: [
        { id: 'bench-hmac', apiKey: 'bench-hmac', secret: { file: 'hmac.secret' }, subject: USER },
        { id: 'bench-rsa', apiKey: 'bench-rsa', publicKey: pem(rsa.publicKey, 'spki'), subject: USER, scheme: schemes.rsa },
        { id: 'bench-p256', apiKey: 'bench-p256', publicKey: pem(p256.publicKey, 'spki'), subject: USER, scheme: schemes.p256 },
        { id: 'bench-k1', apiKey: 'bench-k1', publicKey: pem(k1.publicKey, 'spki'), subject: USER, scheme: schemes.k1 },
      ],
    }),
  )
  // Throughput runs push thousands of requests a second: the in-memory nonce store is sized for that
  // here (it holds every nonce for twice the timestamp window); the RSS run below uses the defaults.
  const gatewayConfig = (redisUrl?: string, nonces: object = { timestampWindow: '60s', nonceStore: { maxEntries: 2_000_000 } }) => ({
    server: { host: '127.0.0.1', basePath: '/v2' },
    ...(redisUrl ? { redis: { url: redisUrl } } : {}),
    auth: { scheme: schemes.hmac, credentials: [{ file: 'credentials.yaml' }], ...nonces },
    upstream: { url: legacy, subjectHeader: 'x-legacy-user', connections: 64 },
    mappings: [join(root, 'config/demo/mappings')],
    logging: { level: 'warn' },
  })
  writeFileSync(join(dir, 'memory.yaml'), stringify(gatewayConfig()))
  writeFileSync(join(dir, 'redis.yaml'), stringify(gatewayConfig(`redis://127.0.0.1:${port(1)}`)))
  // Default nonce bound (200,000) and a 60 s nonce TTL: 3,200 req/s keeps ~192,000 nonces live.
  writeFileSync(join(dir, 'steady.yaml'), stringify(gatewayConfig(undefined, { timestampWindow: '30s' })))
  // 2,000,000 nonces need ~360 MB of heap, which the shipped 128 MB refuses at start-up.
  const memory = start('dist/plugins/server.js', { NLGW_CONFIG: join(dir, 'memory.yaml'), PORT: String(port(3)), METRICS_PORT: String(port(4)) }, '--max-old-space-size=768 --max-semi-space-size=8')
  const withRedis = start('dist/plugins/server.js', { NLGW_CONFIG: join(dir, 'redis.yaml'), PORT: String(port(5)), METRICS_PORT: String(port(6)) })
  await Promise.all([until(`${legacy}/internal/v1/tokens`), until(`http://127.0.0.1:${port(2)}/v2/internal/v1/tokens`), until(`http://127.0.0.1:${port(4)}/readyz`), until(`http://127.0.0.1:${port(6)}/readyz`)])

  const legacyPaths = { balances: `/internal/v1/users/${USER}/accounts/${ACCOUNT}/wallets`, capabilities: '/internal/v1/tokens' }
  const gatewayPaths = { balances: `/v2/accounts/${ACCOUNT}/balances`, capabilities: '/v2/capabilities' }
  const gateway = (name: string, key: keyof typeof schemes, proc: ChildProcess, p: number, keyMaterial: string): Target => ({
    name,
    url: `http://127.0.0.1:${p}`,
    paths: gatewayPaths,
    signer: { apiKey: `bench-${key}`, signer: createSigner(schemes[key] as SigningScheme, keyMaterial) },
    process: proc,
  })
  const direct: Target = { name: 'legacy backend direct', url: legacy, paths: legacyPaths, headers: { 'x-legacy-user': USER } }
  const bare: Target = { name: 'bare @fastify/http-proxy', url: `http://127.0.0.1:${port(2)}`, paths: { balances: `/v2${legacyPaths.balances}`, capabilities: `/v2${legacyPaths.capabilities}` }, headers: { 'x-legacy-user': USER } }
  const gateways = [
    gateway('gateway HMAC, memory nonces', 'hmac', memory, port(3), 'bench-secret'),
    gateway('gateway HMAC, Redis nonces', 'hmac', withRedis, port(5), 'bench-secret'),
    gateway('gateway RSA-2048, memory nonces', 'rsa', memory, port(3), pem(rsa.privateKey, 'pkcs8')),
    gateway('gateway ECDSA P-256, memory nonces', 'p256', memory, port(3), pem(p256.privateKey, 'pkcs8')),
    gateway('gateway ECDSA secp256k1, memory nonces', 'k1', memory, port(3), pem(k1.privateKey, 'pkcs8')),
  ]

  const rows: Row[] = []
  const findings: string[] = []
  for (const route of ['balances', 'capabilities'] as const) {
    const label = route === 'balances' ? 'mapped GET /accounts/{id}/balances' : 'static GET /capabilities'
    await load(direct, route, 2) // warm-up
    const directMax = await load(direct, route, seconds)
    const bareMax = await load(bare, route, seconds)
    rows.push({ route: label, configuration: direct.name, 'req/s': Math.round(directMax.rps), 'p50 ms': directMax.p50, 'p99 ms': directMax.p99, 'vs bare proxy': directMax.rps / bareMax.rps, 'p99 at half load, ms': '', 'added p99 at half load, ms': '', 'RSS MB': '', errors: directMax.errors })
    rows.push({ route: label, configuration: bare.name, 'req/s': Math.round(bareMax.rps), 'p50 ms': bareMax.p50, 'p99 ms': bareMax.p99, 'vs bare proxy': 1, 'p99 at half load, ms': '', 'added p99 at half load, ms': '', 'RSS MB': '', errors: bareMax.errors })
    for (const target of gateways) {
      await load(target, route, 1, 2000) // warm-up
      // Each request needs its own nonce: a pool the gateway outruns would replay (401s, fast and
      // misleading), so a run with any error is redone with twice the pool.
      let pool = Math.ceil(Math.max(bareMax.rps, 2000) * seconds * 1.3)
      let max = await load(target, route, seconds, pool)
      for (let retry = 0; max.errors > 0 && retry < 2; retry++) {
        pool *= 2
        max = await load(target, route, seconds, pool)
      }
      const rss = rssMb(target.process)
      const half = await atRate(target, route, seconds, max.rps / 2, Math.ceil((max.rps / 2) * seconds) + 1)
      const directHalf = await atRate(direct, route, seconds, max.rps / 2)
      const added = half.p99 - directHalf.p99
      rows.push({
        route: label,
        configuration: target.name,
        'req/s': Math.round(max.rps),
        'p50 ms': max.p50,
        'p99 ms': max.p99,
        'vs bare proxy': max.rps / bareMax.rps,
        'p99 at half load, ms': half.p99,
        'added p99 at half load, ms': added,
        'RSS MB': rss ?? '',
        errors: max.errors + half.errors,
      })
      if (route === 'balances' && target.name === 'gateway HMAC, Redis nonces') {
        const ratio = max.rps / bareMax.rps
        findings.push(`Target 1 — HMAC, Redis nonces, mapped route ≥ 0.8× the bare proxy's throughput: ${ratio.toFixed(2)}× — ${ratio >= 0.8 ? 'met' : 'NOT met'}.`)
        findings.push(`Target 2 — under 2 ms added at p99 at half of its maximum load (${Math.round(max.rps / 2)} req/s): ${added.toFixed(2)} ms — ${added < 2 ? 'met' : 'NOT met'}.`)
      }
    }
  }
  // RSS at steady load with the in-memory nonce store at its bound.
  const steady = start('dist/plugins/server.js', { NLGW_CONFIG: join(dir, 'steady.yaml'), PORT: String(port(7)), METRICS_PORT: String(port(8)) })
  await until(`http://127.0.0.1:${port(8)}/readyz`)
  const steadyTarget = gateway('steady', 'hmac', steady, port(7), 'bench-secret')
  const samples: number[] = []
  const sampler = setInterval(() => samples.push(rssMb(steady) ?? 0), 2000)
  const steadyRun = await atRate(steadyTarget, 'balances', 80, 3200)
  clearInterval(sampler)
  const peak = Math.max(...samples)
  findings.push(
    `RSS at steady load (3,200 req/s for 80 s, in-memory nonce store at its default bound of 200,000 with a 60 s TTL, ${NODE_OPTIONS}): peak ${peak} MB, last ${samples.at(-1)} MB, ${steadyRun.errors} errors; the Kubernetes manifest's memory limit is 256 MiB (${peak < 256 ? 'within' : 'OVER'} it).`,
  )
  stopAll()
  return { rows, findings }
}
