import { spawn, type ChildProcess } from 'node:child_process'

import { Redis } from 'ioredis'
import { until } from './poll.js'
import { freePort } from './ports.js'
import { tempDir } from './temp.js'

/**
 * A real redis-server on a free loopback port, without persistence. `stop()`
 * and `start()` take it down and bring it back on the same port (and
 * directory, where a Cluster node keeps its nodes.conf), for fail-closed and
 * recovery tests; `pause()` and `resume()` freeze it (SIGSTOP / SIGCONT),
 * as a replica that stops acknowledging. `args` are further redis-server
 * options.
 */
export class RedisServer {
  private child?: ChildProcess
  private readonly dir = tempDir('nlgw-redis-')

  private constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  static async start({ args = [] }: { args?: string[] } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), args)
    await server.start()
    return server
  }

  /** A replica of `primary`, once its replication link is up. */
  static async replicaOf(primary: RedisServer): Promise<RedisServer> {
    const replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(primary.port)] })
    const client = replica.client()
    try {
      await until(async () => (await client.info('replication')).includes('master_link_status:up'), { timeoutMs: 10_000, everyMs: 50, what: `replica on ${replica.port} in sync` })
    } finally {
      client.disconnect()
    }
    return replica
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.args], { stdio: 'ignore' })
    const deadline = Date.now() + 5000
    for (;;) {
      const client = new Redis(this.port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
      client.on('error', () => {})
      try {
        await client.connect()
        await client.ping()
        return
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${this.port}`, { cause: err })
        await new Promise((resolve) => setTimeout(resolve, 20))
      } finally {
        client.disconnect()
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGKILL')
    })
  }

  pause(): void {
    this.child?.kill('SIGSTOP')
  }

  resume(): void {
    this.child?.kill('SIGCONT')
  }

  /** A plain client for inspecting what the gateway wrote. */
  client(): Redis {
    return new Redis(this.port, '127.0.0.1')
  }
}
