import { buildLegacyExchange } from './app.js'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.LEGACY_PORT ?? 8010)

const app = buildLegacyExchange({ logger: { level: process.env.LEGACY_LOG_LEVEL ?? 'info' } })
try {
  await app.listen({ host, port })
} catch (error) {
  app.log.error(error)
  process.exit(1)
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close())
