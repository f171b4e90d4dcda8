/**
 * `npm run demo`: the demo legacy exchange and the gateway in front of it, each
 * in its own process as they would run side by side. Embedded defaults:
 * in-memory stores, gateway on 127.0.0.1:8000 (PORT), metrics and health on
 * 127.0.0.1:9464 (METRICS_PORT), outbound signing proxy on 127.0.0.1:8100,
 * legacy exchange on 127.0.0.1:8010 (LEGACY_PORT). NLGW_OPENAPI, REDIS_URL,
 * NLGW_PLATFORM_SIGNATURE and the other variables in the README pass through.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { root, start, waitFor } from './processes.js'

const legacyPort = process.env.LEGACY_PORT ?? '8010'
const env = {
  ...process.env,
  NLGW_CONFIG: process.env.NLGW_CONFIG ?? join(root, 'config/demo/gateway.yaml'),
  // LEGACY_PORT moves the demo exchange; the gateway follows it unless UPSTREAM_URL says otherwise.
  UPSTREAM_URL: process.env.UPSTREAM_URL ?? `http://127.0.0.1:${legacyPort}`,
  LOG_PRETTY: process.env.LOG_PRETTY ?? '1',
  NODE_OPTIONS: process.env.NODE_OPTIONS ?? '--max-old-space-size=128 --max-semi-space-size=8',
}

start('legacy exchange', process.execPath, [join(root, 'dist/examples/legacy-exchange/main.js')], { ...process.env, HOST: '127.0.0.1', LEGACY_PORT: legacyPort, LEGACY_LOG_LEVEL: process.env.LEGACY_LOG_LEVEL ?? 'warn' })
await waitFor(`http://127.0.0.1:${legacyPort}/internal/v1/tokens`, 'the legacy exchange')
start('gateway', process.execPath, [join(root, 'dist/plugins/server.js')], env)
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
