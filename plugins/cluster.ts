import cluster, { type Worker } from 'node:cluster'
import pino from 'pino'
import { AggregatorRegistry, type Registry } from 'prom-client'
import type { GatewayConfig } from '../src/config/load.js'
import type { Check } from '../src/core.js'
import { loggerOptions } from '../src/logging.js'
import { buildOpsApp, type Readiness } from './ops.js'

/**
 * `server.workers` above 1: the primary forks that many workers, each a whole
 * gateway on the same port (node:cluster hands connections round-robin), and
 * keeps for itself what must be one per machine: the operations listener
 * (metrics summed over the workers by prom-client's AggregatorRegistry,
 * readiness asked of every worker), signals (relayed), file watching, and
 * restarting a worker that dies. Every worker must see every nonce, so more
 * than one worker needs Redis (the config refuses it otherwise).
 */
const READINESS = 'nlgw:readiness'

interface ReadinessMessage {
  type: typeof READINESS
  id: number
  checks?: Record<string, Check>
}

/** In a worker: answer the primary's metrics and readiness requests. */
export function answerPrimary(registry: Registry, readiness: Readiness): undefined {
  new AggregatorRegistry() // installs the worker's side of metrics aggregation
  AggregatorRegistry.setRegistries([registry])
  process.on('message', (message: ReadinessMessage) => {
    if (message?.type === READINESS) void readiness().then((checks) => process.send?.({ type: READINESS, id: message.id, checks }))
  })
  return undefined
}

export async function runPrimary(config: GatewayConfig, watchFiles: (files: string[], onChange: () => void) => void): Promise<void> {
  const { stream, ...options } = loggerOptions(config.logging)
  const log = stream ? pino(options, stream) : pino(options)
  const count = config.server.workers
  const workers = new Set<Worker>()
  let closing = false
  let restartDelayMs = 100
  const fork = () => {
    const worker = cluster.fork()
    workers.add(worker)
    worker.once('listening', () => (restartDelayMs = 100))
    worker.once('exit', (code, signal) => {
      workers.delete(worker)
      if (closing) return
      // A worker that keeps dying at start is restarted less and less often.
      log.error({ worker: worker.id, code, signal, restartInMs: restartDelayMs }, 'worker exited; starting another')
      setTimeout(fork, restartDelayMs)
      restartDelayMs = Math.min(restartDelayMs * 2, 10_000)
    })
  }
  for (let i = 0; i < count; i++) fork()

  let asked = 0
  const askWorker = (worker: Worker) =>
    new Promise<Record<string, Check> | undefined>((resolve) => {
      const id = ++asked
      const timer = setTimeout(() => done(undefined), 1500)
      const onMessage = (message: ReadinessMessage) => message?.type === READINESS && message.id === id && done(message.checks)
      const done = (checks: Record<string, Check> | undefined) => {
        clearTimeout(timer)
        worker.off('message', onMessage)
        resolve(checks)
      }
      worker.on('message', onMessage)
      worker.send({ type: READINESS, id })
    })
  const readiness: Readiness = async (): Promise<Record<string, Check>> => {
    if (closing) return { shutdown: { ok: false, detail: 'shutting down' } }
    const answers = await Promise.all([...workers].map(askWorker))
    const ready = answers.filter((checks) => checks && Object.values(checks).every((c) => c.ok)).length
    // Each check as the workers see it: failing if any worker's fails.
    const checks: Record<string, Check> = {}
    for (const answer of answers) {
      for (const [name, check] of Object.entries(answer ?? {})) if (!checks[name] || !check.ok) checks[name] = check
    }
    checks.workers = { ok: ready === count, detail: `${ready} of ${count} ready` }
    return checks
  }
  const aggregator = new AggregatorRegistry()
  const ops = await buildOpsApp({ registry: { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() }, readiness })
  await ops.listen({ host: config.metrics.host, port: config.metrics.port })
  log.info({ workers: count, metrics: `http://${config.metrics.host}:${config.metrics.port}/metrics` }, 'primary started its workers')

  const relay = (signal: NodeJS.Signals) => () => {
    for (const worker of workers) worker.process.kill(signal)
  }
  process.on('SIGHUP', relay('SIGHUP'))
  if (config.reload.watch) watchFiles([config.file, ...config.mappings], relay('SIGHUP'))
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return
    closing = true
    log.info({ signal }, 'shutting down the workers')
    // Each worker waits shutdownDelay, then drains its requests; /readyz here already says no.
    relay(signal)()
    setTimeout(() => process.exit(1), config.server.shutdownDelayMs + config.server.shutdownTimeoutMs + 1000).unref()
    const check = setInterval(() => {
      if (workers.size > 0) return
      clearInterval(check)
      void ops.close().then(() => process.exit(0))
    }, 50)
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}
