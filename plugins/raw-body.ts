import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Keeps every request body as the exact bytes received: the signature covers
 * those bytes, never a re-serialised object. JSON is parsed later, and only
 * for authenticated requests.
 */
async function rawBodyPlugin(app: FastifyInstance): Promise<void> {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
}

export default fp(rawBodyPlugin, { name: 'nlgw-raw-body' })
