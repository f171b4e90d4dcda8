import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { installConventions, malformed } from './http.js'
import { registerAccountRoutes } from './routes/accounts.js'
import { registerBackofficeRoutes } from './routes/backoffice.js'
import { registerCatalogRoutes } from './routes/catalog.js'
import { registerConvertRoutes } from './routes/convert.js'
import { registerCvaRoutes } from './routes/cva.js'
import { registerDepositRoutes } from './routes/deposits.js'
import { registerMethodRoutes } from './routes/methods.js'
import { registerPayoutRoutes } from './routes/payouts.js'
import { registerPriceRoutes } from './routes/prices.js'
import { registerRampRoutes } from './routes/ramps.js'
import { registerSettlementRoutes } from './routes/settlements.js'
import { createState } from './state/store.js'

export interface LegacyExchangeOptions {
  /** Clock in epoch milliseconds; tests pass their own to reach quote and ramp expiry. */
  now?: () => number
  logger?: boolean | { level: string }
}

/** The demo legacy exchange: its own internal API over in-memory seeded state. Not listening yet. */
export function buildLegacyExchange(options: LegacyExchangeOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    // Fireblocks collateral ids (three UUIDs) and transaction ids travel in paths.
    routerOptions: { maxParamLength: 500 },
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => void reply.code(error.statusCode ?? 400).send(malformed(error.message)),
  })
  const state = createState(options.now ?? Date.now)
  installConventions(app, state)
  registerCatalogRoutes(app)
  registerAccountRoutes(app, state)
  registerMethodRoutes(app, state)
  registerPriceRoutes(app, state)
  registerPayoutRoutes(app, state)
  registerDepositRoutes(app, state)
  registerConvertRoutes(app, state)
  registerRampRoutes(app, state)
  registerCvaRoutes(app, state)
  registerSettlementRoutes(app, state)
  registerBackofficeRoutes(app, state)
  return app
}
