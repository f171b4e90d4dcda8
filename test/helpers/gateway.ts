import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { LoggerOptions } from 'pino'
import { stringify } from 'yaml'
import { loadConfig } from '../../src/config/load.js'
import { createGateway, type Gateway } from '../../plugins/gateway.js'
import { redisReady } from '../../src/redis.js'
import type { GatewayMetrics } from '../../src/metrics.js'
import { tempDir } from './temp.js'

/** The set-up most gateway tests share: HMAC SHA-256, plain / base64, one credential acting as `u`. */
export const hmac = {
  auth: { scheme: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }, credentials: [{ file: 'credentials.yaml' }] },
  credentials: [{ apiKey: 'test-key', secret: { env: 'S' }, subject: 'u' }],
  env: { S: 's' },
  /** How the test client signs for that credential. */
  key: { hmac: 's', hash: 'sha256' } as const,
}

export interface TestGateway extends Gateway {
  url: string
  dir: string
  /** The environment the config was loaded with, for reload(). */
  env: Record<string, string>
}

/**
 * A gateway built the way production builds it: YAML config and credential
 * files on disk, secrets in the environment, loaded by loadConfig, listening on
 * a loopback port.
 */
export interface GatewaySetup {
  config: Record<string, unknown>
  credentials?: unknown[]
  /** The environment loadConfig sees (secrets referenced by { env }). */
  env?: Record<string, string>
  /** Extra files beside the config, e.g. secrets referenced by { file }. */
  files?: Record<string, string>
  /** Share a metrics registry with another gateway. */
  metrics?: GatewayMetrics
  /** Where to listen: `::` takes IPv4 (as ::ffff:a.b.c.d) and IPv6 clients. */
  host?: string
  /** Pino options (e.g. a stream to read the access log from); no logging by default. */
  logger?: LoggerOptions
}

export async function startGateway({ config, credentials = [], env = {}, files = {}, metrics, host = '127.0.0.1', logger }: GatewaySetup): Promise<TestGateway> {
  const dir = tempDir('nlgw-gw-')
  writeFileSync(join(dir, 'credentials.yaml'), stringify({ credentials }))
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
  const file = join(dir, 'gateway.yaml')
  writeFileSync(file, stringify({ server: { host: '127.0.0.1', port: 0, basePath: '/v2' }, ...config }))
  const gateway = await createGateway(loadConfig(file, { ...env }), { logger: logger ?? false, ...(metrics ? { metrics } : {}) })
  if (gateway.redis) await redisReady(gateway.redis, 5000)
  await gateway.app.listen({ host, port: 0 })
  const { port } = gateway.app.server.address() as { port: number }
  return { ...gateway, url: `${gateway.config.server.tls ? 'https' : 'http'}://127.0.0.1:${port}`, dir, env }
}

/** The HMAC gateway of `hmac` with one mapping file, in front of `upstream`, closed when the test ends. */
export async function mappedGateway(t: { teardown(fn: () => unknown): void }, mapping: string, upstream: string, config: Record<string, unknown> = {}): Promise<TestGateway> {
  const gateway = await startGateway({
    config: { auth: hmac.auth, upstream: { url: upstream }, mappings: ['mappings.yaml'], ...config },
    credentials: hmac.credentials,
    env: hmac.env,
    files: { 'mappings.yaml': mapping },
  })
  t.teardown(() => gateway.close())
  return gateway
}
