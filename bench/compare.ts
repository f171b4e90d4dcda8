/**
 * `BENCH_BASE_DIST=<another build's dist> npm run bench:compare > /dev/null`:
 * this build against another one, for changes too small for the HTTP
 * benchmark's run-to-run spread. Both gateways live in this process, on the
 * same config (HMAC, Redis nonces unless BENCH_MEMORY, access log at info on
 * stdout), and answer BENCH_ROUTE (the mapped `balances`, or the static
 * `capabilities`) through `app.inject`, 32 requests in flight, against the
 * demo exchange and Redis as child processes. Rounds alternate ABBA (whichever
 * runs second pays for the first one's garbage); CPU from
 * process.cpuUsage(), requests signed before each round. The table goes to
 * stderr: stdout carries the access logs. BENCH_REQUESTS per round, BENCH_ROUNDS.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import type { loadConfig as loadThisConfig } from '../src/config/load.js'
import { ACCOUNT, benchCredentials, gatewayConfig } from './http.js'
import { table } from './measure.js'
import { signedRequests } from './pools.js'
import { benchDir, root, start, stopAll, until } from './procs.js'

const requests = Number(process.env.BENCH_REQUESTS ?? 5000)
const rounds = Number(process.env.BENCH_ROUNDS ?? 10)
const base = Number(process.env.BENCH_PORT ?? 18_450)
const path = process.env.BENCH_ROUTE === 'capabilities' ? '/v2/capabilities' : `/v2/accounts/${ACCOUNT}/balances`
const baseDist = process.env.BENCH_BASE_DIST
if (!baseDist) throw new Error('set BENCH_BASE_DIST to the dist/ of the build to compare with')
process.on('exit', stopAll)

const dir = benchDir('nlgw-compare-')
const backend = `http://127.0.0.1:${base}`
const redis = process.env.BENCH_MEMORY ? undefined : `redis://127.0.0.1:${base + 1}`
start('dist/examples/legacy-exchange/main.js', { env: { HOST: '127.0.0.1', LEGACY_PORT: String(base), LEGACY_LOG_LEVEL: 'error' } })
if (redis) start(['redis-server', '--port', String(base + 1), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'])
const signing = benchCredentials(dir).hmac
writeFileSync(join(dir, 'gateway.yaml'), stringify(gatewayConfig({ upstream: backend, mappings: join(root, 'config/demo/mappings'), ...(redis ? { redis } : {}) })))
await until(`${backend}/internal/v1/tokens`)

interface Injectable {
  app: { inject(request: { method: 'GET'; url: string; headers: Record<string, string> }): Promise<{ statusCode: number; body: string }> }
  readiness(): Promise<Record<string, { ok: boolean }>>
  close(): Promise<void>
}
async function gatewayFrom(dist: string): Promise<Injectable> {
  const { loadConfig } = (await import(join(dist, 'src/config/load.js'))) as { loadConfig: typeof loadThisConfig }
  const { createGateway } = (await import(join(dist, 'plugins/gateway.js'))) as { createGateway: (config: unknown) => Promise<Injectable> }
  return createGateway(loadConfig(join(dir, 'gateway.yaml'), {}))
}
const builds = { 'base build': await gatewayFrom(baseDist), 'this build': await gatewayFrom(join(root, 'dist')) }
for (let tries = 0; !Object.values(await builds['this build'].readiness()).every((check) => check.ok); tries++) {
  if (tries === 100) throw new Error('Redis did not come up')
  await new Promise((resolve) => setTimeout(resolve, 1000)) // readiness answers from one check a second
}

async function round(gateway: Injectable): Promise<number> {
  const batch = signedRequests(signing, 'GET', path, requests)
  ;(globalThis as { gc?: () => void }).gc?.()
  const before = process.cpuUsage()
  let next = 0
  const client = async () => {
    while (next < batch.length) {
      const { path: url, headers } = batch[next++] as (typeof batch)[number]
      const res = await gateway.app.inject({ method: 'GET', url, headers })
      if (res.statusCode !== 200) throw new Error(`answered ${res.statusCode}: ${res.body}`)
    }
  }
  await Promise.all(Array.from({ length: 32 }, client))
  const used = process.cpuUsage(before)
  return (used.user + used.system) / requests
}

const results: Record<string, number[]> = { 'base build': [], 'this build': [] }
await round(builds['base build']) // warm-up both
await round(builds['this build'])
for (let i = 0; i < rounds; i++) {
  const order = Object.entries(builds)
  for (const [name, gateway] of i % 2 === 0 ? order : order.reverse()) results[name]?.push(await round(gateway))
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
const reference = median(results['base build'] ?? [])
process.stderr.write(`${path.replace(ACCOUNT, '{id}')}: ${rounds} rounds of ${requests} requests, 32 in flight, ABBA order; node ${process.version}\n\n`)
process.stderr.write(
  table(
    Object.entries(results).map(([name, values]) => ({
      build: name,
      'CPU µs/request (median)': Number(median(values).toFixed(2)),
      'min–max': `${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}`,
      'vs base, µs': Number((median(values) - reference).toFixed(2)),
    })),
  ) + '\n',
)
for (const gateway of Object.values(builds)) await gateway.close()
process.exit(0)
