import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { until } from './poll.js'
import { RedisServer } from './redis.js'

/**
 * Redis high availability as operators run it, on loopback: Sentinel
 * watching a primary and its replica, and a Cluster made by
 * `redis-cli --cluster create`. Every process is a RedisServer, so a test can
 * kill, freeze and restart any of them.
 */
export class Sentinels {
  private constructor(
    readonly name: string,
    readonly sentinels: RedisServer[],
  ) {}

  get url(): string {
    return `redis+sentinel://${this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${this.name}`
  }

  /**
   * `count` sentinels watching `primary` (quorum 2), once each one sees the
   * others and `replicas` replicas: only then can they agree on a failover.
   */
  static async watch(primary: RedisServer, { replicas = 1, count = 3, downAfterMs = 1000, failoverTimeoutMs = 4000, name = 'nlgw' } = {}): Promise<Sentinels> {
    const config = [`sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`, `sentinel down-after-milliseconds ${name} ${downAfterMs}`, `sentinel failover-timeout ${name} ${failoverTimeoutMs}`, ''].join('\n')
    const sentinels = await Promise.all(Array.from({ length: count }, () => RedisServer.start({ config, args: ['--sentinel'] })))
    const set = new Sentinels(name, sentinels)
    await set.each(async (client) => {
      await until(
        async () => {
          const master = fields((await client.call('SENTINEL', 'MASTER', name)) as string[])
          return Number(master['num-slaves']) >= replicas && Number(master['num-other-sentinels']) >= count - 1
        },
        { timeoutMs: 15_000, everyMs: 100, what: 'sentinels that see each other and the replica' },
      )
    })
    return set
  }

  /** The port of the primary each sentinel names. */
  async primaryPorts(): Promise<number[]> {
    return this.each(async (client) => Number(((await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name)) as [string, string])[1]))
  }

  async stop(): Promise<void> {
    await Promise.all(this.sentinels.map((s) => s.stop()))
  }

  private async each<T>(work: (client: Redis) => Promise<T>): Promise<T[]> {
    return Promise.all(
      this.sentinels.map(async (sentinel) => {
        const client = sentinel.client()
        try {
          return await work(client)
        } finally {
          client.disconnect()
        }
      }),
    )
  }
}

export interface ClusterNode {
  id: string
  port: number
  role: 'master' | 'slave'
  /** A replica's primary. */
  primaryId?: string
  slots: Array<[number, number]>
}

export class RedisCluster {
  private constructor(readonly servers: RedisServer[]) {}

  /** The seed nodes a gateway is given: the first primaries. */
  get url(): string {
    return `redis+cluster://${this.servers
      .slice(0, 3)
      .map((s) => `127.0.0.1:${s.port}`)
      .join(',')}`
  }

  /**
   * `primaries` primaries with `replicas` replicas each. Nodes fail over after
   * 1 s unreachable; slots of a primary that is down fail on their own
   * rather than the whole cluster (cluster-require-full-coverage no).
   */
  static async create({ primaries = 3, replicas = 1 } = {}): Promise<RedisCluster> {
    const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000', '--cluster-require-full-coverage', 'no']
    const servers = await Promise.all(Array.from({ length: primaries * (replicas + 1) }, () => RedisServer.start({ args })))
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`)
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 })
    const cluster = new RedisCluster(servers)
    await cluster.settled(primaries * (replicas + 1))
    return cluster
  }

  server(port: number): RedisServer {
    const server = this.servers.find((s) => s.port === port)
    if (!server) throw new Error(`no cluster node on ${port}`)
    return server
  }

  /** CLUSTER NODES as seen by the node on `port` (any live node by default). */
  async nodes(port?: number): Promise<ClusterNode[]> {
    for (const server of port ? [this.server(port)] : this.servers) {
      const client = new Redis(server.port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
      client.on('error', () => {})
      try {
        await client.connect()
        return parseNodes((await client.call('CLUSTER', 'NODES')) as string)
      } catch {
        // down: ask the next one
      } finally {
        client.disconnect()
      }
    }
    throw new Error('no cluster node answers')
  }

  /** The primary that serves `slot` now (none while its primary is failing). */
  async ownerOf(slot: number): Promise<ClusterNode | undefined> {
    return (await this.nodes()).find((n) => n.role === 'master' && n.slots.some(([from, to]) => slot >= from && slot <= to))
  }

  /** Every node reports cluster_state:ok and knows `count` connected nodes, and every replica is in sync. */
  async settled(count: number): Promise<void> {
    await until(
      async () => {
        for (const server of this.servers) {
          const client = server.client()
          try {
            const info = (await client.call('CLUSTER', 'INFO')) as string
            const nodes = parseNodes((await client.call('CLUSTER', 'NODES')) as string)
            const replication = await client.info('replication')
            if (!info.includes('cluster_state:ok') || nodes.length < count) return false
            if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false
          } finally {
            client.disconnect()
          }
        }
        return true
      },
      { timeoutMs: 20_000, everyMs: 100, what: 'a settled cluster' },
    )
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()))
  }
}

/** A node's connected peers (and itself) from CLUSTER NODES; failed or handshaking nodes are left out. */
function parseNodes(text: string): ClusterNode[] {
  return text
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([, , flags, , , , , link]) => link === 'connected' && !/fail|handshake|noaddr/.test(flags ?? ''))
    .map(([id, address, flags, primaryId, , , , , ...slots]) => ({
      id: id as string,
      port: Number((address as string).split('@')[0]?.split(':')[1]),
      role: (flags as string).includes('master') ? ('master' as const) : ('slave' as const),
      ...(primaryId !== '-' ? { primaryId: primaryId as string } : {}),
      slots: slots.filter((s) => !s.startsWith('[')).map((s) => s.split('-').map(Number) as [number, number]).map(([from, to]) => [from, to ?? from] as [number, number]),
    }))
}

/** SENTINEL MASTER answers a flat list of names and values. */
function fields(list: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string
  return out
}
