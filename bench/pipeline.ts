/**
 * The mapped route in process, no sockets: the demo's
 * `GET /accounts/{id}/balances` through the gateway's pipeline (target
 * parsed, mapping compiled from config/demo, the backend's answer parsed,
 * mapped with exact decimals, paginated and serialised, metrics observed),
 * next to what the hand-written adapter does with the same answer (parse,
 * plain-JS mapping, serialise). The backend's answer is the demo exchange's
 * own, recorded once through `inject`. Measures what the YAML costs over code,
 * apart from the network and the framework.
 */
import { buildLegacyExchange } from '../examples/legacy-exchange/app.js'
import { buildCredential } from '../src/credentials/credential.js'
import { MemoryIdempotencyStore } from '../src/idempotency/memory.js'
import { compileMappings, mappingFiles } from '../src/mapping/load.js'
import { answerMapped, type PipelineOptions } from '../src/mapping/pipeline.js'
import { createMetrics } from '../src/metrics.js'
import { parseTarget } from '../src/request/target.js'
import type { UpstreamResponse } from '../src/upstream.js'
import { balancesOf, type Wallet } from './balances-by-hand.js'
import { ACCOUNT, USER } from './http.js'
import type { Row } from './measure.js'
import { root } from './procs.js'

/** Like opsPerSecond, for a function that returns a promise: one at a time, as one request is. */
async function asyncOpsPerSecond(fn: () => Promise<unknown>, ms: number): Promise<number> {
  const run = async (until: number) => {
    let ops = 0
    while (performance.now() < until) {
      for (let i = 0; i < 50; i++) await fn()
      ops += 50
    }
    return ops
  }
  await run(performance.now() + ms / 5)
  const start = performance.now()
  const ops = await run(start + ms)
  return ops / ((performance.now() - start) / 1000)
}

export async function pipelineBench(ms: number): Promise<Row[]> {
  const legacy = buildLegacyExchange({ logger: false })
  const recorded = await legacy.inject({ url: `/internal/v1/users/${USER}/accounts/${ACCOUNT}/wallets`, headers: { 'x-legacy-user': USER } })
  await legacy.close()
  const answer: UpstreamResponse = { status: 200, headers: { 'content-type': 'application/json' }, body: recorded.rawPayload }
  const set = compileMappings({ mappings: mappingFiles(['config/demo/mappings'], root), upstream: { timeoutMs: 10_000, subjectHeader: 'x-legacy-user' } })
  const options: PipelineOptions = {
    validators: new Map(),
    responseValidation: 'off',
    idempotency: { store: new MemoryIdempotencyStore({ ttlMs: 60_000, lockMs: 5_000, maxEntries: 10 }), waitMs: 1_000 },
    metrics: createMetrics({ processMetrics: false }),
    upstream: { request: async () => answer },
    subjectHeader: 'x-legacy-user',
  }
  const credential = buildCredential('bench', { id: 'bench', subject: USER, key: 'secret' }, { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' })
  const log = { error: (fields: object, message: string) => console.error(message, fields) }
  const url = `/v2/accounts/${ACCOUNT}/balances`
  const gateway = async () => {
    const target = parseTarget(url, '/v2')
    const match = set.table.match('GET', target.segments)
    const route = match && set.routes.get(match.template.key)
    if (!match || !route) throw new Error('the demo maps no balances route')
    return (await answerMapped(route, { method: 'GET', target, params: match.params, body: undefined, headers: {}, credential, requestId: 'r', log }, options)).body
  }
  const byHand = async () => JSON.stringify(balancesOf(JSON.parse((await options.upstream.request({ method: 'GET', path: '/', headers: {}, timeoutMs: 0 })).body.toString('utf8')) as { wallets: Wallet[] }, 10))
  if ((await gateway()) !== (await byHand())) throw new Error(`the pipeline and the hand-written mapping disagree:\n${await gateway()}\n${await byHand()}`)
  const mapped = await asyncOpsPerSecond(gateway, ms)
  const hand = await asyncOpsPerSecond(byHand, ms)
  const us = (ops: number) => Math.round((1e6 / ops) * 10) / 10
  return [
    { path: 'gateway pipeline (YAML)', 'µs per request': us(mapped), 'vs hand-written': hand / mapped },
    { path: 'hand-written: parse, map, serialise', 'µs per request': us(hand), 'vs hand-written': 1 },
  ]
}
