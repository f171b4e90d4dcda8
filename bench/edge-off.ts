/**
 * `BENCH_BASE_DIST=<another build's dist> node --expose-gc dist/bench/edge-off.js`:
 * what the edge features cost when none is configured, measured without a
 * network or a backend: this build and the other one in one process, each
 * gateway answering the static mapped GET /capabilities through app.inject
 * (every hook, the HMAC signature, the nonce claim, the mapping), rounds
 * alternated (ABBA), CPU from process.cpuUsage(). Requests are signed before each
 * round, outside the measurement. BENCH_REQUESTS per round, BENCH_ROUNDS.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import type { loadConfig as loadThisConfig } from '../src/config/load.js'
import { createSigner } from '../src/signing/index.js'
import { signedRequests } from './pools.js'
import { table } from './measure.js'

const requests = Number(process.env.BENCH_REQUESTS ?? 5000)
const rounds = Number(process.env.BENCH_ROUNDS ?? 10)
const baseDist = process.env.BENCH_BASE_DIST
if (!baseDist) throw new Error('set BENCH_BASE_DIST to the dist/ of the build to compare with')
const root = new URL('../../', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'nlgw-edge-off-'))
writeFileSync(join(dir, 'hmac.secret'), 'bench-secret')
writeFileSync(join(dir, 'credentials.yaml'), stringify({ credentials: [{ id: 'bench', apiKey: 'bench', secret: { file: 'hmac.secret' }, subject: 'u' }] }))
writeFileSync(
  join(dir, 'gateway.yaml'),
  stringify({
    server: { basePath: '/v2' },
    auth: { scheme: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }, timestampWindow: '30s', credentials: [{ file: 'credentials.yaml' }] },
    upstream: { url: 'http://127.0.0.1:9' },
    mappings: [join(root, 'config/demo/mappings')],
  }),
)

interface Injectable {
  app: { inject(request: { method: 'GET'; url: string; headers: Record<string, string> }): Promise<{ statusCode: number }> }
  close(): Promise<void>
}
async function gatewayFrom(dist: string): Promise<Injectable> {
  const { loadConfig } = (await import(join(dist, 'src/config/load.js'))) as { loadConfig: typeof loadThisConfig }
  const { createGateway } = (await import(join(dist, 'plugins/gateway.js'))) as { createGateway: (config: unknown, options: object) => Promise<Injectable> }
  return createGateway(loadConfig(join(dir, 'gateway.yaml'), {}), { logger: false })
}
const builds = { 'base build': await gatewayFrom(baseDist), 'this build': await gatewayFrom(join(root, 'dist')) }
const signing = { apiKey: 'bench', basePath: '/v2', signer: createSigner({ algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }, 'bench-secret') }

async function round(gateway: Injectable): Promise<number> {
  const batch = signedRequests(signing, 'GET', '/v2/capabilities', requests)
  ;(globalThis as { gc?: () => void }).gc?.()
  const before = process.cpuUsage()
  for (const { path, headers } of batch) {
    const res = await gateway.app.inject({ method: 'GET', url: path, headers })
    if (res.statusCode !== 200) throw new Error(`answered ${res.statusCode}`)
  }
  const used = process.cpuUsage(before)
  return (used.user + used.system) / requests
}

const results: Record<string, number[]> = { 'base build': [], 'this build': [] }
await round(builds['base build']) // warm-up both
await round(builds['this build'])
// ABBA order: whichever runs second in a pair pays for the first one's garbage and cache misses.
for (let i = 0; i < rounds; i++) {
  const order = Object.entries(builds)
  for (const [name, gateway] of i % 2 === 0 ? order : order.reverse()) results[name]?.push(await round(gateway))
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
const base = median(results['base build'] ?? [])
console.log(`${rounds} rounds of ${requests} requests each, ABBA order; node ${process.version}\n`)
console.log(
  table(
    Object.entries(results).map(([name, values]) => ({
      build: name,
      'CPU µs/request (median)': Number(median(values).toFixed(2)),
      'min–max': `${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}`,
      'vs base, µs': Number((median(values) - base).toFixed(2)),
    })),
  ),
)
for (const gateway of Object.values(builds)) await gateway.close()
