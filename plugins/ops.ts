import Fastify, { type FastifyInstance } from 'fastify'
import type { Check } from '../src/core.js'
import { drainOnClose } from './drain.js'

export type Readiness = () => Promise<Record<string, Check>>

/** What /metrics serves: a prom-client Registry, or the cluster primary's aggregate of its workers'. */
export interface MetricsSource {
  contentType: string
  metrics(): Promise<string>
}

/**
 * The operations listener (METRICS_PORT): Prometheus metrics, liveness and
 * readiness. `/readyz` answers 503 with the failing checks in its body while
 * any dependency is down, so an orchestrator stops routing to this replica.
 */
export async function buildOpsApp({ registry, readiness }: { registry: MetricsSource; readiness: Readiness }): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  drainOnClose(app)
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    const checks = await readiness()
    const ready = Object.values(checks).every((c) => c.ok)
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks })
  })
  return app
}
