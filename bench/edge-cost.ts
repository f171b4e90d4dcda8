/**
 * `npm run bench:edge`: what each edge feature costs per request, off and
 * on, in CPU time of the gateway process: utime + stime from
 * /proc/PID/stat across a run at a fixed rate (open loop, so every
 * configuration does the same work per second), divided by the requests
 * answered. Mapped GET /accounts/{id}/balances against the demo legacy
 * exchange, HMAC, memory nonces unless the configuration says Redis.
 * BENCH_BASE_DIST=<dist of another build> adds that build with no edge
 * settings: the difference to "none" is what the features cost when off.
 * BENCH_RATE (requests/s), BENCH_SECONDS, BENCH_REPS (runs per
 * configuration, interleaved; the median is reported).
 */
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { createSigner } from '../src/signing/index.js'
import { makeAuthority } from '../test/helpers/tls.js'
import { ACCOUNT, USER } from './http.js'
import { table, type Row } from './measure.js'
import { paced, type PacedRequest, type PacedRun } from './paced.js'
import { signedRequests } from './pools.js'
import { benchDir, cpuSeconds, root, start, stopAll, until } from './procs.js'

const rate = Number(process.env.BENCH_RATE ?? 1000)
const seconds = Number(process.env.BENCH_SECONDS ?? 8)
const reps = Number(process.env.BENCH_REPS ?? 3)
const base = Number(process.env.BENCH_PORT ?? 18_400)
const dir = benchDir('nlgw-edge-bench-')
process.on('exit', stopAll)
process.on('SIGINT', () => process.exit(130))
process.on('SIGTERM', () => process.exit(143))

const legacy = `http://127.0.0.1:${base}`
start('dist/examples/legacy-exchange/main.js', { env: { HOST: '127.0.0.1', LEGACY_PORT: String(base), LEGACY_LOG_LEVEL: 'error' } })
start(['redis-server', '--port', String(base + 1), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'])
// An OTLP/HTTP sink: the exporter's work is the gateway's cost, the sink's is not.
const sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')))
await new Promise<void>((resolve) => sink.listen(base + 2, '127.0.0.1', resolve))

const ca = makeAuthority('bench-ca', dir)
const server = ca.issue('server', 'server')
const client = ca.issue('fireblocks', 'client', '/CN=fireblocks-nl')
writeFileSync(join(dir, 'hmac.secret'), 'bench-secret')
const credential = (bound: boolean) => ({ id: 'bench', apiKey: 'bench', secret: { file: 'hmac.secret' }, subject: USER, ...(bound ? { tlsSubject: { CN: 'fireblocks-nl' } } : {}) })
writeFileSync(join(dir, 'credentials.yaml'), stringify({ credentials: [credential(false)] }))
writeFileSync(join(dir, 'bound.yaml'), stringify({ credentials: [credential(true)] }))

interface Configuration {
  name: string
  /** Edge settings merged into the gateway config. */
  edge?: { server?: object; redis?: object; rateLimit?: object; tracing?: object }
  credentials?: string
  https?: boolean
  /** Another build's dist/ (the base commit). */
  dist?: string
}
const tls = { cert: server.certFile, key: server.keyFile, ca: ca.certFile }
const redisUrl = { url: `redis://127.0.0.1:${base + 1}` }
const limits = { perCredential: { max: 1_000_000, window: '1m', burst: 100_000 }, refusedPerAddress: { max: 100, window: '1m' } }
const configurations: Configuration[] = [
  ...(process.env.BENCH_BASE_DIST ? [{ name: 'base commit, none of the features', dist: process.env.BENCH_BASE_DIST }] : []),
  { name: 'none (every feature off)' },
  { name: 'allow-list + trusted proxies', edge: { server: { allow: ['127.0.0.0/8', '::1'], trustedProxies: ['10.0.0.0/8'] } } },
  { name: 'rate limits, memory', edge: { rateLimit: limits } },
  { name: 'tracing on, sampleRatio 0', edge: { tracing: { endpoint: `http://127.0.0.1:${base + 2}/v1/traces`, sampleRatio: 0 } } },
  { name: 'tracing on, sampleRatio 1 (every request exported)', edge: { tracing: { endpoint: `http://127.0.0.1:${base + 2}/v1/traces`, sampleRatio: 1 } } },
  { name: 'HTTPS (TLS 1.3, keep-alive)', edge: { server: { tls } }, https: true },
  { name: 'HTTPS, mutual TLS, credential bound to the certificate', edge: { server: { tls: { ...tls, requestClientCert: true } } }, https: true, credentials: 'bound.yaml' },
  { name: 'Redis nonces (reference for the next)', edge: { redis: redisUrl } },
  { name: 'Redis nonces + rate limits in Redis', edge: { redis: redisUrl, rateLimit: limits } },
]

const signing = { apiKey: 'bench', basePath: '/v2', signer: createSigner({ algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }, 'bench-secret') }
const path = `/v2/accounts/${ACCOUNT}/balances`

async function measure(configuration: Configuration, index: number): Promise<PacedRun & { cpuUs: number }> {
  const file = join(dir, `gateway-${index}.yaml`)
  const { server: edgeServer, ...rest } = configuration.edge ?? {}
  writeFileSync(
    file,
    stringify({
      server: { host: '127.0.0.1', basePath: '/v2', ...edgeServer },
      auth: { scheme: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }, timestampWindow: '30s', credentials: [{ file: configuration.credentials ?? 'credentials.yaml' }] },
      upstream: { url: legacy, subjectHeader: 'x-legacy-user', connections: 64 },
      mappings: [join(root, 'config/demo/mappings')],
      logging: { level: 'warn' },
      ...rest,
    }),
  )
  const port = base + 10 + index * 2
  const gateway = start(join(configuration.dist ?? join(root, 'dist'), 'plugins/server.js'), { env: { NLGW_CONFIG: file, PORT: String(port), METRICS_PORT: String(port + 1) } })
  try {
    await until(`http://127.0.0.1:${port + 1}/readyz`)
    const url = `${configuration.https ? 'https' : 'http'}://127.0.0.1:${port}`
    const connect = configuration.https ? { ca: ca.cert, cert: client.cert, key: client.key, servername: 'localhost' } : undefined
    const next = () => signedRequests(signing, 'GET', path, 1)[0] as PacedRequest
    await paced(url, 2, rate, next, connect) // warm-up: JIT, connections, pools
    const before = cpuSeconds(gateway.pid as number)
    const run = await paced(url, seconds, rate, next, connect)
    const used = cpuSeconds(gateway.pid as number) - before
    const answered = Math.round(rate * seconds) - run.errors
    return { ...run, cpuUs: (used * 1e6) / answered }
  } finally {
    gateway.kill('SIGKILL')
  }
}

await until(`${legacy}/internal/v1/tokens`)
const runs = new Map<string, Array<PacedRun & { cpuUs: number }>>()
for (let rep = 0; rep < reps; rep++) {
  for (const [index, configuration] of configurations.entries()) {
    const run = await measure(configuration, index)
    runs.set(configuration.name, [...(runs.get(configuration.name) ?? []), run])
    console.error(`rep ${rep + 1}/${reps} ${configuration.name}: ${run.cpuUs.toFixed(1)} µs/request, p50 ${run.p50} ms, p99 ${run.p99} ms, errors ${run.errors}`)
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
const reference = median(runs.get('none (every feature off)')?.map((r) => r.cpuUs) ?? [])
const rows: Row[] = configurations.map(({ name }) => {
  const all = runs.get(name) ?? []
  const cpu = median(all.map((r) => r.cpuUs))
  return {
    configuration: name,
    'CPU µs/request (median)': Number(cpu.toFixed(1)),
    'runs (µs)': all.map((r) => r.cpuUs.toFixed(0)).join(' / '),
    'vs none, µs': Number((cpu - reference).toFixed(1)),
    'p50 ms': median(all.map((r) => r.p50)),
    'p99 ms': median(all.map((r) => r.p99)),
    errors: all.reduce((sum, r) => sum + r.errors, 0),
  }
})
console.log(`${rate} requests/s for ${seconds} s, ${reps} runs each, interleaved; node ${process.version}\n`)
console.log(table(rows))
sink.close()
process.exit(0)
