import { spawn, type ChildProcess } from 'node:child_process'

import { Redis } from 'ioredis'
import { freePort } from './ports.js'
import { tempDir } from './temp.js'

/**
 * A real redis-server on a free loopback port, without persistence. `stop()`
 * and `start()` take it down and bring it back on the same port, for
 * fail-closed and recovery tests.
 */
export class RedisServer {
  private child?: ChildProcess
  private readonly dir = tempDir('nlgw-redis-')

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort())
    await server.start()
    return server
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], { stdio: 'ignore' })
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

  /** A plain client for inspecting what the gateway wrote. */
  client(): Redis {
    return new Redis(this.port, '127.0.0.1')
  }
}
