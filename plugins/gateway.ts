import type { FastifyInstance } from 'fastify'
import type { Server } from 'node:https'
import type { LoggerOptions } from 'pino'
import type { GatewayConfig } from '../src/config/load.js'
import { createCore, type Core, type ReloadResult } from '../src/core.js'
import { loggerOptions } from '../src/logging.js'
import type { GatewayMetrics } from '../src/metrics.js'
import { RouteTable } from '../src/route-table.js'
import { createSigner } from '../src/signing/index.js'
import { ReloadablePool, secureContextOptions, type ListenerTls } from '../src/tls.js'
import { loadTracing } from '../src/tracing.js'
import { buildApp } from './app.js'
import { buildOutboundApp } from './outbound.js'

/** A gateway built from its config: the core plus its Fastify listeners. */
export interface Gateway extends Core {
  app: FastifyInstance
  /** The Exchange → Fireblocks listener, when `outbound` is configured. */
  outbound?: FastifyInstance
}

export interface GatewayOptions {
  logger?: LoggerOptions | false
  metrics?: GatewayMetrics
}

export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const tracing = config.tracing ? await loadTracing(config.tracing) : undefined
  const core = createCore(config, { ...(options.metrics ? { metrics: options.metrics } : {}), tracing })
  const logger = options.logger ?? loggerOptions(config.logging)
  const app = await buildApp(core, logger)
  const fireblocks = config.outbound && new ReloadablePool(new URL(config.outbound.target).origin, { connections: 32, connectTimeoutMs: config.outbound.timeoutMs }, config.outbound.targetTls)
  const outbound = config.outbound && fireblocks
    ? await buildOutboundApp({
        ...config.outbound,
        signer: createSigner(config.outbound.scheme, config.outbound.key),
        allow: new RouteTable(config.outbound.allow),
        bodyLimit: config.server.bodyLimit,
        metrics: core.metrics,
        logger,
        fireblocks,
        tracing: core.tracing,
      })
    : undefined
  let current = config
  return {
    ...core,
    app,
    ...(outbound ? { outbound } : {}),
    /** The core's reload, then the certificates: the listeners' own, and the client certificate for Fireblocks. */
    reload(env?: NodeJS.ProcessEnv): ReloadResult {
      const before = current
      const result = core.reload(env)
      if (!result.ok) return result
      current = result.config
      renewCertificate(app, before.server.tls, current.server.tls)
      if (outbound) renewCertificate(outbound, before.outbound?.tls, current.outbound?.tls)
      fireblocks?.update(current.outbound?.targetTls)
      return result
    },
    async close() {
      await app.close()
      await outbound?.close()
      await core.close()
    },
  }
}

/**
 * A listener's new certificate and key (and client CA): handshakes from now
 * on use them; connections already open carry on, unless the client CA
 * changed (ListenerConnections). Switching HTTPS on or off needs a restart
 * (the reload reports it).
 */
function renewCertificate(listener: FastifyInstance, before: ListenerTls | undefined, tls: ListenerTls | undefined): void {
  const server = listener.server as unknown as Partial<Server>
  if (!tls || !server.setSecureContext) return
  server.setSecureContext(secureContextOptions(tls))
  listener.tlsConnections?.renewed(before, tls)
}
