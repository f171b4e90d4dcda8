/**
 * `npm run demo`: the demo legacy exchange and the gateway in front of it, each
 * in its own process as they would run side by side. Embedded defaults:
 * in-memory stores, gateway on 127.0.0.1:8000 (PORT), metrics and health on
 * 127.0.0.1:9464 (METRICS_PORT), outbound signing proxy on 127.0.0.1:8100,
 * legacy exchange on 127.0.0.1:8010 (LEGACY_PORT). NLGW_OPENAPI, REDIS_URL,
 * NLGW_PLATFORM_SIGNATURE and the other variables in the README pass through.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

const root = fileURLToPath(new URL('../../', import.meta.url))
const legacyPort = process.env.LEGACY_PORT ?? '8010'
const env = {
  ...process.env,
  NLGW_CONFIG: process.env.NLGW_CONFIG ?? join(root, 'config/demo/gateway.yaml'),
  // LEGACY_PORT moves the demo exchange; the gateway follows it unless UPSTREAM_URL says otherwise.
  UPSTREAM_URL: process.env.UPSTREAM_URL ?? `http://127.0.0.1:${legacyPort}`,
  LOG_PRETTY: process.env.LOG_PRETTY ?? '1',
  NODE_OPTIONS: process.env.NODE_OPTIONS ?? '--max-old-space-size=128 --max-semi-space-size=8',
}
const children: ChildProcess[] = []

function start(name: string, script: string, childEnv: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [join(root, script)], { env: childEnv, stdio: 'inherit' })
  child.on('exit', (code, signal) => {
    if (stopping) return
    console.error(`\n${name} exited (${signal ?? code}); stopping the demo`)
    stop(1)
  })
  children.push(child)
  return child
}

let stopping = false
function stop(code: number): void {
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  setTimeout(() => process.exit(code), 1500).unref()
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r))))).then(() => process.exit(code))
}
process.on('SIGINT', () => stop(0))
process.on('SIGTERM', () => stop(0))

async function waitFor(url: string, name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await fetch(url).then((r) => r.status < 500, () => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  console.error(`${name} did not come up at ${url}`)
  stop(1)
}

start('legacy exchange', 'dist/examples/legacy-exchange/main.js', { ...process.env, HOST: '127.0.0.1', LEGACY_PORT: legacyPort, LEGACY_LOG_LEVEL: process.env.LEGACY_LOG_LEVEL ?? 'warn' })
await waitFor(`http://127.0.0.1:${legacyPort}/internal/v1/tokens`, 'the legacy exchange')
start('gateway', 'dist/plugins/server.js', env)
const metrics = `http://127.0.0.1:${process.env.METRICS_PORT ?? 9464}`
await waitFor(`${metrics}/healthz`, 'the gateway')

const openapi = process.env.NLGW_OPENAPI
console.log(`
  Network Link Gateway demo
  ─────────────────────────
  Network Link API   http://127.0.0.1:${process.env.PORT ?? 8000}/v2        (signed requests; keys in config/demo/credentials.yaml)
  metrics / health   ${metrics}/metrics  /healthz  /readyz
  outbound signing   http://127.0.0.1:${process.env.OUTBOUND_PORT ?? 8100}  →  ${process.env.FIREBLOCKS_BASE_URL ?? 'http://127.0.0.1:8200/v1'}
  legacy exchange    http://127.0.0.1:${legacyPort}/internal/v1/…      (what the mappings in config/demo/mappings call)
  OpenAPI validation ${openapi ? `on (${openapi})` : 'off — set NLGW_OPENAPI to the official fb-unified-openapi.yaml'}
  platform signature ${/^(1|true|yes|on)$/i.test(process.env.NLGW_PLATFORM_SIGNATURE ?? '') ? 'required on collateral routes (demo key pair)' : 'off (NLGW_PLATFORM_SIGNATURE=1 turns it on)'}
  stores             ${process.env.REDIS_URL ? `Redis ${process.env.REDIS_URL.replace(/\/\/[^@]*@/, '//***@')}` : 'in memory (REDIS_URL for Redis)'}

  Run the official validator against it with config/demo/validator.env (see README, "The demo").
  Ctrl-C stops both.
`)
if (openapi && !existsSync(openapi)) console.warn(`  warning: NLGW_OPENAPI=${openapi} does not exist\n`)
