/**
 * The baseline: a bare @fastify/http-proxy in front of the legacy exchange,
 * no authentication, no mapping. `/v2/*` is forwarded to `UPSTREAM/*`.
 */
import Fastify from 'fastify'
import proxy from '@fastify/http-proxy'

const app = Fastify({ logger: false })
await app.register(proxy, { upstream: process.env.UPSTREAM as string, prefix: '/v2', rewritePrefix: '' })
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
