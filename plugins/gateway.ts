import type { FastifyInstance } from 'fastify'
import type { LoggerOptions } from 'pino'
import type { GatewayConfig } from '../src/config/load.js'
import { createCore, type Core } from '../src/core.js'
import { loggerOptions } from '../src/logging.js'
import type { GatewayMetrics } from '../src/metrics.js'
import { RouteTable } from '../src/route-table.js'
import { createSigner } from '../src/signing/index.js'
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
  const core = createCore(config, options.metrics ? { metrics: options.metrics } : {})
  const logger = options.logger ?? loggerOptions(config.logging)
  const app = await buildApp(core, logger)
  const outbound = config.outbound
    ? await buildOutboundApp({
        ...config.outbound,
        signer: createSigner(config.outbound.scheme, config.outbound.key),
        allow: new RouteTable(config.outbound.allow),
        bodyLimit: config.server.bodyLimit,
        metrics: core.metrics,
        logger,
      })
    : undefined
  return {
    ...core,
    app,
    ...(outbound ? { outbound } : {}),
    async close() {
      await app.close()
      await outbound?.close()
      await core.close()
    },
  }
}
