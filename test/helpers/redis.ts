import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

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
 * options; `config` the text of a config file (a sentinel's, which Sentinel
 * rewrites as it learns the topology).
 */
const running = new Set<ChildProcess>()
// A test that fails half-way must not leave servers behind (a Cluster test starts six).
process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')))

export class RedisServer {
  private child?: ChildProcess
  private readonly dir = tempDir('nlgw-redis-')

  private configFile?: string

  private constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  static async start({ args = [], config }: { args?: string[]; config?: string } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), args)
    if (config !== undefined) {
      server.configFile = join(server.dir, 'redis.conf')
      writeFileSync(server.configFile, config)
    }
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

  /** `INFO replication`, or why it could not be read (a server down, say). */
  async replication(): Promise<string> {
    const client = new Redis(this.port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
    client.on('error', () => {})
    try {
      await client.connect()
      return await client.info('replication')
    } catch (err) {
      return `unreadable: ${(err as Error).message}`
    } finally {
      client.disconnect()
    }
  }

  /** Starts (again) on this server's port; `extraArgs` for this run only, e.g. `--replicaof` for a failed primary that comes back. */
  async start(extraArgs: string[] = []): Promise<void> {
    const file = this.configFile ? [this.configFile] : []
    const log = process.env.NLGW_TEST_REDIS_LOGS ? ['--logfile', join(process.env.NLGW_TEST_REDIS_LOGS, `${this.port}.log`)] : []
    const child = spawn('redis-server', [...file, '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.args, ...extraArgs, ...log], { stdio: 'ignore' })
    this.child = child
    running.add(child)
    child.once('exit', () => running.delete(child))
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
    // Killed by a signal, a process keeps exitCode null: stopped already is either.
    if (!child || child.exitCode !== null || child.signalCode !== null) return
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
