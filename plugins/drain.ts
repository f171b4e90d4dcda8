import type { FastifyInstance } from 'fastify'

/**
 * Keep-alive connections that become idle after close() began (the ones whose
 * requests were in flight) would hold the server open until the client hangs
 * up. Close each one as soon as it is idle, never one with a request on it,
 * until the server has closed.
 */
export function drainOnClose(app: FastifyInstance): void {
  app.addHook('preClose', (done) => {
    const timer = setInterval(() => app.server.closeIdleConnections(), 50)
    app.server.once('close', () => clearInterval(timer))
    done()
  })
}
