import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { Backend, type RecordedRequest } from '../test/helpers/backend.js'
import { send } from '../test/helpers/client.js'
import { hmac } from '../test/helpers/gateway.js'
import { until } from '../test/helpers/poll.js'
import { startServer, writeProject, type ServerProcess } from '../test/helpers/process.js'

/** The test client's key for writeProject's credential. */
export const key = hmac.key

export const WITHDRAWAL = '/v2/accounts/acc-1/transfers/withdrawals/blockchain'

/** A payout backend: each execution gets a new id, so a second execution shows in the answer. */
export async function payoutBackend(): Promise<Backend & { executions(): number }> {
  const backend = await Backend.start((req: RecordedRequest) => (req.method === 'POST' ? { status: 201, body: { payout_id: randomUUID() } } : { body: { ok: true } }))
  return Object.assign(backend, { executions: () => backend.requests.filter((r) => r.method === 'POST').length })
}

/**
 * `count` gateway processes (`node dist/plugins/server.js`) sharing one
 * project: Redis as given, passthrough to `backend` for GET /v2/accounts,
 * and the withdrawal route mapped with idempotency.
 */
export async function startGateways(count: number, redis: Record<string, unknown>, backend: Backend): Promise<ServerProcess[]> {
  const dir = writeProject(
    {
      server: { basePath: '/v2' },
      redis,
      upstream: { url: backend.url, passthrough: '/nl' },
      mappings: ['mappings.yaml'],
      idempotency: { lock: '5s' },
      logging: { level: 'warn' },
    },
    {
      'mappings.yaml': `routes:
  - route: POST /accounts/{accountId}/transfers/withdrawals/blockchain
    upstream: { post: /payouts, body: { amount: $body.amount } }
    status: 201
    response: { id: $body.payout_id }
`,
    },
  )
  const gateways = await Promise.all(Array.from({ length: count }, () => startServer(dir)))
  for (const gateway of gateways) {
    await until(() => fetch(`${gateway.ops}/readyz`).then((r) => r.ok, () => false), { timeoutMs: 10_000, everyMs: 50, what: `gateway ready (Redis connected)\n${gateway.output()}` })
  }
  return gateways
}

/**
 * Kills the gateways. When `t` has failed, first prints the errors they
 * logged (distinct messages, counted): the causes behind their 503s, which
 * the answers do not carry.
 */
export async function stopGateways(gateways: ServerProcess[], t?: Test): Promise<void> {
  if (t && !t.passing()) console.error(`gateway errors:\n${gateways.map((g, i) => loggedErrors(i, g.output())).join('\n')}`)
  await Promise.all(
    gateways.map((g) => {
      g.child.kill('SIGKILL')
      return g.exited
    }),
  )
}

function loggedErrors(index: number, output: string): string {
  const counts = new Map<string, number>()
  for (const line of output.split('\n')) {
    let entry: { level?: number; msg?: string; err?: { message?: string } }
    try {
      entry = JSON.parse(line) as typeof entry
    } catch {
      continue
    }
    if ((entry.level ?? 0) < 40) continue
    const message = `${entry.msg ?? ''}: ${entry.err?.message ?? ''}`
    counts.set(message, (counts.get(message) ?? 0) + 1)
  }
  return [...counts].map(([message, n]) => `  gateway ${index}: ${n}× ${message}`).join('\n')
}

export interface Result {
  at: number
  status: number
  text: string
}

/**
 * Signed requests sent without pause by `concurrency` loops, round robin
 * over the gateways, each with a fresh nonce; every answer recorded with
 * its time.
 */
export class SteadyLoad {
  readonly results: Result[] = []
  private running = true
  private readonly loops: Array<Promise<void>>

  constructor(urls: string[], { concurrency = 4, request = (url: string) => send(url, { path: '/v2/accounts', key }) } = {}) {
    let next = 0
    this.loops = Array.from({ length: concurrency }, async () => {
      while (this.running) {
        const res = await request(urls[next++ % urls.length] as string).catch((err: Error) => ({ status: 0, text: err.message }))
        this.results.push({ at: Date.now(), status: res.status, text: res.text })
      }
    })
  }

  async stop(): Promise<Result[]> {
    this.running = false
    await Promise.all(this.loops)
    return this.results
  }

  /** Answers since `time` (ms). */
  since(time: number): Result[] {
    return this.results.filter((r) => r.at >= time)
  }

  /** Resolves once `count` answers in a row since `time` were 200. */
  async recovered(time: number, { count = 20, timeoutMs = 30_000 } = {}): Promise<number> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const after = this.since(time)
      const lastFailure = after.findLastIndex((r) => r.status !== 200)
      if (after.length - lastFailure - 1 >= count) return (after[lastFailure + 1] as Result).at - time
      if (Date.now() > deadline) throw new Error(`no recovery within ${timeoutMs} ms: ${summary(after)}; ${failures(after)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

/** The distinct texts of the answers other than 200, with counts, for messages. */
export function failures(results: Result[]): string {
  const counts = new Map<string, number>()
  for (const { status, text } of results) if (status !== 200) counts.set(`${status} ${text}`, (counts.get(`${status} ${text}`) ?? 0) + 1)
  return [...counts].map(([text, n]) => `${n}× ${text}`).join('; ')
}

/** Status → count, for messages. */
export function summary(results: Result[]): string {
  const counts = new Map<number, number>()
  for (const { status } of results) counts.set(status, (counts.get(status) ?? 0) + 1)
  return [...counts].map(([status, n]) => `${status}×${n}`).join(' ')
}
