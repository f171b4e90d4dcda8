/**
 * `npm run bench:profile`: where the gateway's CPU goes on the benchmark's
 * route (mapped `GET /accounts/{id}/balances`, HMAC, Redis nonces, access
 * logs on). Runs the gateway under wrk with `--cpu-prof`, then prints self
 * time by function and by module (a package, a file of ours, or Node's
 * internals), and keeps the .cpuprofile for Chrome DevTools. BENCH_SECONDS
 * sets the run, BENCH_PORT the first of the loopback ports used.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { benchCredentials, gatewayConfig, measure, USER } from './http.js'
import { signedRequests } from './pools.js'
import { benchDir, root, start, stopAll, until } from './procs.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const ACCOUNT = 'c2159935-4e32-406c-9de9-e1cd191c037f'
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const base = Number(process.env.BENCH_PORT ?? 18_400)
process.on('exit', stopAll)

/** A package under node_modules, a file of ours, or the Node internal / native bucket. */
export function moduleOf(url: string): string {
  if (!url) return '(native, GC, idle)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1] as string
  if (url.startsWith('node:')) return url
  const ours = /\/dist\/(.+)$/.exec(url)
  return ours ? (ours[1] as string) : url
}

/** Self time per key, in microseconds, from the sampled profile. */
export function selfTime(profile: Profile, key: (node: ProfileNode) => string): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const out = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)
    if (!node) return
    const k = key(node)
    out.set(k, (out.get(k) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  return out
}

function top(times: Map<string, number>, total: number, count: number): string {
  return [...times]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n')
}

const dir = benchDir('nlgw-profile-')
const backendUrl = `http://127.0.0.1:${base}`
const redisUrl = `redis://127.0.0.1:${base + 1}`
const backend = start('dist/examples/legacy-exchange/main.js', { env: { HOST: '127.0.0.1', LEGACY_PORT: String(base), LEGACY_LOG_LEVEL: 'error' } })
const redis = start(['redis-server', '--port', String(base + 1), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'])
const signing = benchCredentials(dir)
writeFileSync(join(dir, 'gateway.yaml'), stringify(gatewayConfig({ upstream: backendUrl, mappings: join(root, 'config/demo/mappings'), redis: redisUrl })))
const gateway = start('dist/plugins/server.js', {
  env: { NLGW_CONFIG: join(dir, 'gateway.yaml'), PORT: String(base + 2), METRICS_PORT: String(base + 3) },
  nodeOptions: `--max-old-space-size=128 --max-semi-space-size=8 --cpu-prof --cpu-prof-dir=${dir}`,
})
await Promise.all([until(`${backendUrl}/internal/v1/tokens`), until(`http://127.0.0.1:${base + 3}/readyz`)])
const target = { name: 'profile', url: `http://127.0.0.1:${base + 2}`, proc: gateway, requests: (n: number) => signedRequests(signing.hmac, 'GET', `/v2/accounts/${ACCOUNT}/balances`, n) }
await measure(dir, target, 2, {}, 5000) // warm-up: the profile should show the steady state mostly
const run = await measure(dir, target, seconds, { backend, redis }, 5000)
const exited = new Promise((resolve) => gateway.once('exit', resolve))
gateway.kill('SIGTERM') // a clean exit writes the profile
await exited
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
if (!file) throw new Error(`no profile written in ${dir}`)
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile
const total = profile.timeDeltas.reduce((a, b) => a + b, 0)
const idle = selfTime(profile, (n) => n.callFrame.functionName).get('(idle)') ?? 0
console.log(`${run.requests.toLocaleString('en-US')} requests, ${Math.round(run.rps)} req/s, ${Math.round(run.cpuUs.proxy ?? 0)} CPU µs/req, ${run.errors} errors (subject ${USER})`)
console.log(`busy ${(((total - idle) / total) * 100).toFixed(0)}% of the profile; shares below are of the whole profile\n`)
console.log('## Self time by module\n')
console.log(top(selfTime(profile, (n) => (n.callFrame.functionName === '(idle)' ? '(idle)' : moduleOf(n.callFrame.url))), total, 25))
console.log('\n## Self time by function\n')
console.log(top(selfTime(profile, (n) => `${n.callFrame.functionName || '(anonymous)'} ${moduleOf(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`), total, 40))
console.log(`\nprofile: ${join(dir, file)}`)
process.exit(0)
