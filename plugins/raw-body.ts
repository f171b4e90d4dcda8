import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import { readBody } from '../src/request/read-body.js'

/**
 * Keeps every request body as the exact bytes received: the signature covers
 * those bytes, never a re-serialised object. The limit is the caller's (a
 * scheme whose pre-encoding is super-linear gets a lower one), known from
 * its headers before a byte of the body is read. JSON is parsed later, and
 * only for authenticated requests.
 */
async function rawBodyPlugin(app: FastifyInstance, { bodyLimit }: { bodyLimit: number }): Promise<void> {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (request: FastifyRequest, payload: IncomingMessage) => readBody(payload, request.identified?.bodyLimit ?? bodyLimit, request.headers['content-length']))
}

export default fp(rawBodyPlugin, { name: 'nlgw-raw-body', fastify: '5.x' })
