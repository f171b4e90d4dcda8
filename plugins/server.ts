#!/usr/bin/env node
/**
 * The gateway process: `NLGW_CONFIG=gateway.yaml node dist/plugins/server.js`.
 * Network Link listener on server.host:port, metrics and health on
 * metrics.host:port. With `server.workers` above 1, this process is the
 * primary: it forks the workers that serve (node:cluster shares the port),
 * answers the operations endpoints for all of them, and relays signals.
 */
import cluster from 'node:cluster'
import { watch } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { ConfigError, formatProblem } from '../src/config/problems.js'
import { loadConfig, type GatewayConfig } from '../src/config/load.js'
import { redactUrl, redisReady } from '../src/redis.js'
import { answerPrimary, runPrimary } from './cluster.js'
import { createGateway } from './gateway.js'
import { buildOpsApp } from './ops.js'

async function main(): Promise<void> {
  const file = process.env.NLGW_CONFIG
  if (!file) throw new ConfigError([{ file: 'environment', path: 'NLGW_CONFIG', message: 'set NLGW_CONFIG to the gateway config file' }])
  const config = loadConfig(file)
  if (config.server.workers > 1 && cluster.isPrimary) return runPrimary(config, watchFiles)
  return serve(config)
}

/** One serving process: the whole gateway, or one worker of several. */
async function serve(config: GatewayConfig): Promise<void> {
  const gateway = await createGateway(config)
  const log = gateway.app.log
  let closing = false
  // While shutting down, /readyz fails at once so that load balancers stop sending new requests.
  const readiness = async () => (closing ? { shutdown: { ok: false, detail: 'shutting down' } } : gateway.readiness())
  const ops = cluster.isWorker ? answerPrimary(gateway.metrics.registry, readiness) : await buildOpsApp({ registry: gateway.metrics.registry, readiness })

  if (gateway.redis) {
    // Start anyway if Redis is late: requests are refused with 503 and /readyz says why until it connects.
    await redisReady(gateway.redis, 5000).catch((err: unknown) => log.warn({ redis: redactUrl(config.redis?.url ?? ''), err: (err as Error).message }, 'Redis not reachable yet'))
  }
  await gateway.app.listen({ host: config.server.host, port: config.server.port })
  if (ops) await ops.listen({ host: config.metrics.host, port: config.metrics.port })
  if (gateway.outbound && config.outbound) await gateway.outbound.listen({ host: config.outbound.host, port: config.outbound.port })
  log.info({ metrics: `http://${config.metrics.host}:${config.metrics.port}/metrics`, nonceStore: gateway.nonces.kind, ...(cluster.isWorker ? { worker: cluster.worker?.id } : {}) }, 'gateway ready')

  /**
   * SIGTERM: report not ready, wait shutdownDelay for load balancers to notice,
   * stop accepting, let requests in flight finish (at most shutdownTimeout),
   * then close the backend pool and Redis.
   */
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    const { shutdownDelayMs, shutdownTimeoutMs } = config.server
    log.info({ signal, shutdownDelayMs, shutdownTimeoutMs }, 'shutting down')
    setTimeout(() => {
      log.error({ shutdownTimeoutMs }, 'requests still in flight at the shutdown deadline; exiting')
      process.exit(1)
    }, shutdownDelayMs + shutdownTimeoutMs).unref()
    await new Promise((resolve) => setTimeout(resolve, shutdownDelayMs))
    try {
      await gateway.close()
      await ops?.close()
      log.info('shut down cleanly')
      process.exit(0)
    } catch (err) {
      log.error({ err }, 'shutdown failed')
      process.exit(1)
    }
  }
  const reload = (trigger: string) => {
    const result = gateway.reload()
    if (!result.ok) log.error({ trigger, problems: result.problems.map(formatProblem) }, 'reload rejected; the previous config keeps serving')
    else {
      log.info({ trigger, hash: result.hash }, 'config and mappings reloaded')
      if (result.restartNeeded.length) log.warn({ sections: result.restartNeeded }, 'these sections changed but take effect only after a restart')
    }
  }
  process.on('SIGHUP', () => reload('SIGHUP'))
  // A worker's primary watches the files and relays the change as SIGHUP.
  if (config.reload.watch && !cluster.isWorker) watchFiles([config.file, ...gateway.mappings.current.files], () => reload('file change'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

/** Editors replace files rather than write them in place, so watch their directories, and let a burst settle. */
function watchFiles(files: string[], onChange: () => void): void {
  const names = new Set(files.map((f) => resolve(f)))
  let timer: NodeJS.Timeout | undefined
  for (const dir of new Set([...names].map((f) => dirname(f)))) {
    watch(dir, (_event, name) => {
      if (name && !names.has(join(dir, name.toString())) && !/\.ya?ml$/.test(name.toString())) return
      clearTimeout(timer)
      timer = setTimeout(onChange, 300)
    }).unref()
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`)
    process.exit(78) // EX_CONFIG
  }
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
