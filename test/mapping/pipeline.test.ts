import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildCredential, type Credential } from '../../src/credentials/credential.js'
import { GatewayError } from '../../src/errors.js'
import { MemoryIdempotencyStore } from '../../src/idempotency/memory.js'
import { loadMappings } from '../../src/mapping/load.js'
import { answerMapped, type MappedAnswer, type PipelineOptions } from '../../src/mapping/pipeline.js'
import { createMetrics } from '../../src/metrics.js'
import { parseTarget } from '../../src/request/target.js'
import { UpstreamError, type UpstreamClient, type UpstreamRequest, type UpstreamResponse } from '../../src/upstream.js'
import { tempDir } from '../helpers/temp.js'

/**
 * The mapped-route pipeline without sockets: mappings compiled from YAML on disk, the target parsed
 * as the gateway parses it, the real idempotency store and metrics, and a backend that serves
 * recorded answers (the UpstreamClient seam `nlgw test-mapping` uses too).
 */
const mapping = `
defaults:
  errors:
    - when: { status: 404, $body.error.code: NO_ACCOUNT }
      errorType: not-found
      message: "{$body.error.msg}"
routes:
  - route: GET /accounts
    upstream:
      get: /internal/users/{subject}/accounts
    paginate: accounts
    response:
      accounts: { $each: $body.items, id: $item.ref, title: $item.name }
  - route: GET /accounts/{accountId}/balances
    upstream:
      get: /internal/users/{subject}/accounts/{accountId}/wallets
    paginate: balances
    response:
      balances: { $each: $body.wallets, id: $item.wid, available: { $decimal: $item.minor, scale: 2 } }
  - route: POST /accounts/{accountId}/transfers/withdrawals/blockchain
    upstream:
      post: /internal/payouts
      body: { account: $params.accountId, amount: $body.amount, key: $body.idempotencyKey }
    status: 201
    errors:
      - when: { status: 422 }
        errorType: amount-below-minimum
        message: $body.msg
    response: { id: $body.payout_id, status: Pending }
  - route: POST /accounts/{accountId}/transfers/withdrawals/fiat
    upstream:
      post: /internal/fiat-payouts
      body: { account: $params.accountId, amount: $body.amount }
    status: 201
    response: { id: $body.payout_id, memo: $body.memo, createdAt: { $date: $body.created_ms, from: ms } }
  - route: POST /accounts/{accountId}/transfers/withdrawals/subaccount
    upstream:
      - name: debit
        post: /internal/debits
        body: { account: $params.accountId, amount: $body.amount }
      - name: credit
        post: /internal/credits
        body: { account: $body.destination.accountId, amount: $body.amount }
    status: 201
    errors: &refusals
      - when: { status: 422 }
        errorType: bad-request
        message: $body.msg
      - when: { status: 503 }
        errorType: internal-error
        message: backend busy
    response: { id: $debit.id, status: Pending }
  - route: POST /accounts/{accountId}/ramps
    upstream:
      - name: quote
        post: /rpc/quote
        reads: true
        body: { method: quote }
      - name: ramp
        post: /rpc/ramp
        body: { method: ramp }
    status: 201
    errors:
      - when: { status: 422 }
        errorType: bad-request
        message: $body.msg
    response: { id: $ramp.id }
  - route: POST /accounts/{accountId}/trading/orders
    upstream:
      - name: legs
        each: $body.legs
        as: leg
        concurrency: 2
        post: /internal/orders
        body: { amount: $leg }
    status: 201
    errors:
      - when: { status: 422 }
        errorType: bad-request
        message: $body.msg
      - when: { status: 500, $body.error.code: INTERNAL }
        errorType: bad-request
        message: refused
      - when: { $body.ok: false }
        errorType: internal-error
        message: failed inside a success
    response: { id: done }
  - route: POST /accounts/{accountId}/transfers/deposits/addresses
    upstream: { post: /internal/addresses }
    status: 201
    errors:
      - when: { status: 500, $body.error.code: INTERNAL }
        errorType: bad-request
        message: refused
    response: { id: $body.id }
  - route: POST /accounts/{accountId}/liquidity/quotes
    upstream:
      post: /internal/batches
      pages: { items: done, size: 1 }
    status: 201
    errors:
      - when: { status: 422 }
        errorType: bad-request
        message: $body.msg
    response: { id: x }
  - route: POST /accounts/{accountId}/liquidity/quotes/{id}/execute
    upstream:
      - name: pay
        post: /internal/pay
      - name: confirm
        post: /internal/confirm
    status: "{$confirm.code}"
    response: { id: $pay.id }
  - route: POST /accounts/{accountId}/collateral/link
    upstream:
      - name: legs
        each: $body.legs
        as: leg
        concurrency: 1
        post: /internal/links
        body: { amount: $leg }
    status: { $if: { $eq: ["$legs[1].code", 400] }, then: 400, else: 201 }
    response: { id: x }
  - route: POST /accounts/{accountId}/collateral/{collateralId}/addresses
    upstream:
      post: /internal/batch-addresses
      pages: { items: done, size: 1 }
    status: { $if: { $eq: [$body.code, 400] }, then: 400, else: 201 }
    response: { id: x }
  - route: POST /accounts/{accountId}/transfers/withdrawals/peeraccount
    upstream:
      - name: legs
        each: $body.legs
        as: leg
        concurrency: 1
        post: /internal/legs
        body: { amount: $leg }
    status: 201
    errors: *refusals
    response: { id: done, status: Pending }
`

const dir = tempDir('nlgw-pipeline-')
const file = join(dir, 'mappings.yaml')
writeFileSync(file, mapping)
const set = loadMappings([file], { defaultTimeoutMs: 2000, subjectHeader: 'x-legacy-user', successStatus: () => 200 })

/** Recorded answers by `METHOD path`; a list is served in order, its last answer repeating. */
/** A recorded answer, or the failure of an exchange (an UpstreamError: timed out, cut off after its status). */
type Recorded = { status: number; body: unknown } | { fails: Error }

class RecordedBackend implements UpstreamClient {
  readonly calls: UpstreamRequest[] = []
  constructor(readonly answers: Map<string, Recorded[]>) {}
  async request(request: UpstreamRequest): Promise<UpstreamResponse> {
    this.calls.push(request)
    const queue = this.answers.get(`${request.method} ${request.path}`)
    if (!queue?.length) throw new Error(`no recorded answer for ${request.method} ${request.path}`)
    const answer = (queue.length > 1 ? queue.shift() : queue[0]) as Recorded
    if ('fails' in answer) throw answer.fails
    // A Buffer is sent as is: JSON that JSON.stringify could not have made.
    return { status: answer.status, headers: { 'content-type': 'application/json' }, body: Buffer.isBuffer(answer.body) ? answer.body : Buffer.from(JSON.stringify(answer.body)) }
  }
}

const scheme = { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' } as const
const unscoped = buildCredential('key-1', { id: 'cred-1', subject: 'legacy/1', key: 's' }, scheme)
const scoped = buildCredential('key-2', { id: 'cred-2', subject: 'legacy/1', key: 's', accounts: ['a1', 'a3'] }, scheme)
const stranger = buildCredential('key-3', { id: 'cred-3', subject: 'legacy/2', key: 's' }, scheme)

const accounts = { items: ['a1', 'a2', 'a3', 'a4', 'a5'].map((ref) => ({ ref, name: `Account ${ref}` })) }
const wallets = { wallets: ['w1', 'w2', 'w3', 'w4', 'w5'].map((wid, i) => ({ wid, minor: (i + 1) * 100 })) }

function setup(answers: Record<string, Recorded[]> = {}, now: () => number = Date.now) {
  const backend = new RecordedBackend(
    new Map(
      Object.entries({
        'GET /internal/users/legacy%2F1/accounts': [{ status: 200, body: accounts }],
        'GET /internal/users/legacy%2F1/accounts/a1/wallets': [{ status: 200, body: wallets }],
        'GET /internal/users/legacy%2F1/accounts/missing/wallets': [{ status: 404, body: { error: { code: 'NO_ACCOUNT', msg: 'no account "missing"' } } }],
        ...answers,
      }),
    ),
  )
  const metrics = createMetrics({ processMetrics: false })
  const logged: Array<{ fields: object; message: string }> = []
  const options: PipelineOptions = {
    validators: new Map(),
    responseValidation: 'off',
    idempotency: { store: new MemoryIdempotencyStore({ ttlMs: 60_000, lockMs: 5_000, maxEntries: 100, now }), waitMs: 1_000 },
    metrics,
    upstream: backend,
    subjectHeader: 'x-legacy-user',
  }
  /** One request as the gateway hands it over: raw target, body bytes, the authenticated credential. */
  const call = (method: string, url: string, { body, credential = unscoped }: { body?: string; credential?: Credential } = {}): Promise<MappedAnswer> => {
    const target = parseTarget(url, '/v2')
    const match = set.table.match(method, target.segments)
    const route = match && set.routes.get(match.template.key)
    if (!match || !route) throw new Error(`no mapped route for ${method} ${url}`)
    return answerMapped(
      route,
      { method, target, params: match.params, body: body === undefined ? undefined : Buffer.from(body), headers: {}, credential, requestId: 'req-1', log: { error: (fields, message) => logged.push({ fields, message }) } },
      options,
    )
  }
  return { backend, metrics, logged, call }
}

const json = (answer: MappedAnswer) => JSON.parse(answer.body) as Record<string, unknown>

t.test('a mapped answer: the backend call built from the request, the answer translated', async (t) => {
  const { backend, call } = setup()
  const answer = await call('GET', '/v2/accounts/a1/balances?limit=2')
  t.equal(answer.status, 200)
  t.equal(answer.replayed, false)
  t.same(json(answer), { balances: [{ id: 'w1', available: '1' }, { id: 'w2', available: '2' }] })
  t.equal(backend.calls.length, 1)
  t.equal(backend.calls[0]?.method, 'GET')
  t.equal(backend.calls[0]?.path, '/internal/users/legacy%2F1/accounts/a1/wallets', 'the subject encoded into the backend path')
  t.equal(backend.calls[0]?.headers['x-legacy-user'], 'legacy/1', 'the identity header from the credential')
  t.equal(backend.calls[0]?.timeoutMs, 2000)
  t.ok(answer.upstreamSeconds >= 0)
})

t.test('a backend 404 translated by an error rule', async (t) => {
  const { call, metrics } = setup()
  const answer = await call('GET', '/v2/accounts/missing/balances')
  t.equal(answer.status, 404)
  t.same(json(answer), { message: 'no account "missing"', errorType: 'not-found' })
  t.equal(answer.refusal?.reason, 'mapped_error')
  const observed = (await metrics.upstreamDuration.get()).values.find((v) => v.metricName === 'nlgw_upstream_duration_seconds_count' && v.labels.status === '404')
  t.equal(observed?.value, 1, 'the backend call is timed under its status')
})

t.test('idempotency: a retry is answered from the store; another body with the same key is refused', async (t) => {
  const { backend, call, metrics } = setup({ 'POST /internal/payouts': [{ status: 200, body: { payout_id: 'p-1' } }, { status: 200, body: { payout_id: 'p-2' } }] })
  const url = '/v2/accounts/a1/transfers/withdrawals/blockchain'
  const first = await call('POST', url, { body: '{"idempotencyKey":"k-1","amount":"1.5"}' })
  t.same([first.status, json(first), first.replayed], [201, { id: 'p-1', status: 'Pending' }, false])
  t.same(JSON.parse(backend.calls[0]?.body as string), { account: 'a1', amount: '1.5', key: 'k-1' })

  const retry = await call('POST', url, { body: '{ "amount": "1.5", "idempotencyKey": "k-1" }' })
  t.same([retry.status, retry.body, retry.replayed], [201, first.body, true], 'the same request (another spelling) gets the first answer')
  t.equal(backend.calls.length, 1, 'without calling the backend again')
  t.equal(retry.upstreamSeconds, 0)
  const replays = (await metrics.idempotentReplays.get()).values
  t.same(replays.map((v) => [v.labels.route, v.value]), [['POST /accounts/{accountId}/transfers/withdrawals/blockchain', 1]])

  const reuse = await call('POST', url, { body: '{"idempotencyKey":"k-1","amount":"2"}' }).then(
    () => undefined,
    (err: unknown) => err,
  )
  t.ok(reuse instanceof GatewayError)
  t.same([(reuse as GatewayError).spec.status, (reuse as GatewayError).body.errorType], [400, 'idempotency-key-reuse'])
  t.equal(backend.calls.length, 1, 'the backend is not called for a reused key')

  const other = await call('POST', url, { body: '{"idempotencyKey":"k-2","amount":"2"}' })
  t.same([json(other).id, other.replayed], ['p-2', false], 'another key is another request')
  const rotated = await call('POST', url, { body: '{"idempotencyKey":"k-1","amount":"1.5"}', credential: scoped })
  t.equal(rotated.replayed, true, 'keys are scoped by customer: the same customer\'s other credential (a rotated key) gets the stored answer')
  const otherCustomer = await call('POST', url, { body: '{"idempotencyKey":"k-1","amount":"1.5"}', credential: stranger })
  t.equal(otherCustomer.replayed, false, "another customer's k-1 runs")
  t.equal(backend.calls.length, 3)
  const elsewhere = await call('POST', '/v2/accounts/a2/transfers/withdrawals/blockchain', { body: '{"idempotencyKey":"k-1","amount":"1.5"}' })
  t.equal(elsewhere.replayed, false, 'and by target: k-1 on another account runs')
})

t.test('idempotency: a translated 4xx is stored; a 5xx holds the key for the lock, then a retry runs again', async (t) => {
  let now = 0
  const { backend, call } = setup(
    {
      'POST /internal/payouts': [
        { status: 500, body: { error: 'boom' } },
        { status: 422, body: { msg: 'too small' } },
        { status: 200, body: { payout_id: 'never' } },
      ],
    },
    () => now,
  )
  const url = '/v2/accounts/a1/transfers/withdrawals/blockchain'
  const body = '{"idempotencyKey":"k-5xx","amount":"0.01"}'
  const failed = await call('POST', url, { body })
  t.same([failed.status, json(failed).errorType, failed.replayed], [502, 'internal-error', false], 'a 5xx answer')
  await t.rejects(call('POST', url, { body }), { message: 'A request with this idempotency key is still being processed, retry later' }, 'held: the backend may have acted before it failed')
  t.equal(backend.calls.length, 1)
  now = 5_001
  const second = await call('POST', url, { body })
  t.equal(backend.calls.length, 2, 'the retry reached the backend')
  t.same([second.status, json(second), second.replayed], [400, { message: 'too small', errorType: 'amount-below-minimum' }, false])
  const third = await call('POST', url, { body })
  t.same([third.status, third.body, third.replayed], [400, second.body, true], 'the 4xx is replayed')
  t.equal(backend.calls.length, 2)
})

t.test('a payout answered 2xx whose answer the gateway cannot send is stored as the failure: a retry never pays out again (attack review 7)', async (t) => {
  const deep = (depth: number) => Buffer.from(`{"payout_id":"p-deep","memo":${'['.repeat(depth)}${']'.repeat(depth)}}`)
  const cases: Array<[string, Buffer | object]> = [
    ['nested past what the stack holds', deep(20_000)],
    ['a date out of range (nanoseconds)', { payout_id: 'p-ns', created_ms: 1.7e18 }],
  ]
  for (const [what, answer] of cases) {
    const { backend, call, logged } = setup({ 'POST /internal/fiat-payouts': [{ status: 201, body: answer }] })
    const url = '/v2/accounts/a1/transfers/withdrawals/fiat'
    const body = `{"idempotencyKey":"k-${what}","amount":"5"}`
    const first = await call('POST', url, { body })
    t.equal(first.status >= 500, true, `${what}: a 5xx (${first.status} ${first.body})`)
    t.ok(logged.length > 0, `${what}: logged`)
    const retry = await call('POST', url, { body })
    t.same([retry.status, retry.body, retry.replayed], [first.status, first.body, true], `${what}: the retry gets the stored failure`)
    t.equal(backend.calls.length, 1, `${what}: the backend paid out once`)
  }
})

t.test('a call refused after an earlier one changed something: partially executed (a stored 502), never a 4xx that says nothing happened', async (t) => {
  const { backend, call } = setup({
    'POST /internal/debits': [{ status: 201, body: { id: 'd-1' } }],
    'POST /internal/credits': [{ status: 422, body: { msg: 'destination closed' } }],
  })
  const url = '/v2/accounts/a1/transfers/withdrawals/subaccount'
  const body = '{"idempotencyKey":"k-partial","amount":"5","destination":{"accountId":"a3"}}'
  const first = await call('POST', url, { body })
  t.same([first.status, json(first)], [502, { message: 'The backend carried out part of this request and refused the rest: it needs reconciling', errorType: 'internal-error' }])
  const retry = await call('POST', url, { body })
  t.same([retry.status, retry.body, retry.replayed], [502, first.body, true], 'kept: a retry does not debit again')
  t.equal(backend.calls.length, 2)

  const refusedFirst = setup({ 'POST /internal/debits': [{ status: 422, body: { msg: 'too small' } }] })
  const refused = await refusedFirst.call('POST', url, { body })
  t.same([refused.status, json(refused)], [400, { message: 'too small', errorType: 'bad-request' }], 'refused before anything changed: the 4xx as it is')

  const readFirst = setup({ 'POST /rpc/quote': [{ status: 200, body: { rate: 1 } }], 'POST /rpc/ramp': [{ status: 422, body: { msg: 'no liquidity' } }] })
  const rampRefused = await readFirst.call('POST', '/v2/accounts/a1/ramps', { body: '{"idempotencyKey":"k-ramp"}' })
  t.same([rampRefused.status, json(rampRefused)], [400, { message: 'no liquidity', errorType: 'bad-request' }], 'after a POST that says it only reads (reads: true): the 4xx as it is')

  const legs = setup({ 'POST /internal/legs': [{ status: 201, body: {} }, { status: 422, body: { msg: 'leg refused' } }] })
  const perItem = await legs.call('POST', '/v2/accounts/a1/transfers/withdrawals/peeraccount', { body: '{"idempotencyKey":"k-legs","legs":["1","2","3"]}' })
  t.same([perItem.status, json(perItem).errorType], [502, 'internal-error'], 'per-item: the second item refused after the first went through')
  t.equal(legs.backend.calls.length, 2, 'and no item after the refusal')
})

t.test('a 5xx a rule made after an earlier call changed something is kept: a retry does not repeat that call (attack review 8)', async (t) => {
  const twoCalls = setup({ 'POST /internal/debits': [{ status: 201, body: { id: 'd-1' } }], 'POST /internal/credits': [{ status: 503, body: {} }] })
  const url = '/v2/accounts/a1/transfers/withdrawals/subaccount'
  const body = '{"idempotencyKey":"k-n1","amount":"5","destination":{"accountId":"a3"}}'
  const first = await twoCalls.call('POST', url, { body })
  t.same([first.status, json(first)], [500, { message: 'backend busy', errorType: 'internal-error' }])
  const retry = await twoCalls.call('POST', url, { body })
  t.same([retry.status, retry.replayed], [500, true], 'the retry gets the stored answer')
  t.equal(twoCalls.backend.calls.length, 2, 'the debit ran once')

  const legs = setup({ 'POST /internal/legs': [{ status: 201, body: {} }, { status: 503, body: {} }] })
  const legsUrl = '/v2/accounts/a1/transfers/withdrawals/peeraccount'
  const legsBody = '{"idempotencyKey":"k-n1-legs","legs":["1","2"]}'
  t.equal((await legs.call('POST', legsUrl, { body: legsBody })).status, 500)
  t.equal((await legs.call('POST', legsUrl, { body: legsBody })).replayed, true, 'per-item: kept too')
  t.equal(legs.backend.calls.length, 2)

  let now = 0
  const nothingDone = setup({ 'POST /internal/debits': [{ status: 503, body: {} }, { status: 201, body: { id: 'd-2' } }], 'POST /internal/credits': [{ status: 201, body: {} }] }, () => now)
  t.equal((await nothingDone.call('POST', url, { body })).status, 500)
  now = 5_001
  const clean = await nothingDone.call('POST', url, { body })
  t.same([clean.status, clean.replayed], [201, false], 'a 5xx before anything changed: held for the lock, then the retry runs')
})

t.test('per-item calls in parallel: every item counts, whichever failed first (attack review 9)', async (t) => {
  const url = '/v2/accounts/a1/trading/orders'
  const cutAfter201 = () => ({ fails: new UpstreamError('unavailable', 'body cut off', { status: 201 }) })
  const cases: Array<[string, Recorded[], number, string]> = [
    ['item 0 answered 500, item 1 answered 201 and its body was cut', [{ status: 500, body: {} }, cutAfter201()], 502, 'store'],
    ['item 0 answered 500, item 1 timed out after it was sent', [{ status: 500, body: {} }, { fails: new UpstreamError('timeout', 'timed out') }], 502, 'hold'],
    ['item 0 refused 422, item 1 answered 201 and its body was cut', [{ status: 422, body: { msg: 'not enough' } }, cutAfter201()], 502, 'store'],
    ['item 0 refused 422, item 1 timed out after it was sent', [{ status: 422, body: { msg: 'not enough' } }, { fails: new UpstreamError('timeout', 'timed out') }], 502, 'store'],
  ]
  for (const [what, answers, status, kept] of cases) {
    const { backend, call } = setup({ 'POST /internal/orders': answers })
    const body = `{"idempotencyKey":"k-${what}","legs":["1","2"]}`
    const first = await call('POST', url, { body })
    t.equal(first.status, status, `${what}: ${first.body}`)
    if (status === 502 && kept === 'store' && what.includes('422')) t.equal(json(first).message, 'The backend carried out part of this request and refused the rest: it needs reconciling', `${what}: partially executed, not the 4xx`)
    const retry = await call('POST', url, { body }).then(
      (answer) => answer,
      (err: unknown) => err as GatewayError,
    )
    if (kept === 'store') t.same([(retry as MappedAnswer).replayed, (retry as MappedAnswer).body], [true, first.body], `${what}: kept, replayed`)
    else t.equal((retry as GatewayError).spec?.reason, 'idempotency_in_progress', `${what}: held, a retry meanwhile is refused`)
    t.equal(backend.calls.length, 2, `${what}: no item executed again`)
  }
})

t.test('a money-moving call answered 3xx acted as far as anyone knows: kept (attack review 9)', async (t) => {
  const { backend, call } = setup({ 'POST /internal/addresses': [{ status: 303, body: {} }] })
  const body = '{"idempotencyKey":"k-303"}'
  const first = await call('POST', '/v2/accounts/a1/transfers/deposits/addresses', { body })
  t.equal(first.status, 502)
  t.equal((await call('POST', '/v2/accounts/a1/transfers/deposits/addresses', { body })).replayed, true)
  t.equal(backend.calls.length, 1)
})

t.test('attack review 10: a paged call that changes something, a templated 4xx after a change, a proxy 502/504', async (t) => {
  const pages = (answers: Recorded[]) => setup({ 'POST /internal/batches?offset=0&limit=1': [answers[0] as Recorded], 'POST /internal/batches?offset=1&limit=1': [answers[1] as Recorded] })
  for (const [second, status] of [[{ status: 500, body: {} }, 502], [{ status: 422, body: { msg: 'no' } }, 502]] as const) {
    const { backend, call } = pages([{ status: 201, body: { done: [1] } }, second])
    const body = `{"idempotencyKey":"k-pages-${second.status}"}`
    const first = await call('POST', '/v2/accounts/a1/liquidity/quotes', { body })
    t.equal(first.status, status, `page 1 went through, page 2 answered ${second.status}: ${first.body}`)
    t.equal((await call('POST', '/v2/accounts/a1/liquidity/quotes', { body })).replayed, true, 'kept')
    t.equal(backend.calls.length, 2, 'page 1 not sent again')
  }

  const templated = setup({ 'POST /internal/pay': [{ status: 201, body: { id: 'p-1' } }], 'POST /internal/confirm': [{ status: 200, body: { code: 400 } }] })
  const executed = await templated.call('POST', '/v2/accounts/a1/liquidity/quotes/q-1/execute', { body: '{"idempotencyKey":"k-templated"}' })
  t.same([executed.status, json(executed).message], [502, 'The backend carried out part of this request and refused the rest: it needs reconciling'], 'a 4xx the status template makes after an earlier call changed something')

  for (const proxy of [500, 502, 503, 504, 520, 524]) {
    const { backend, call } = setup({ 'POST /internal/addresses': [{ status: proxy, body: '<html>bad gateway</html>' }] })
    const body = `{"idempotencyKey":"k-proxy-${proxy}"}`
    t.equal((await call('POST', '/v2/accounts/a1/transfers/deposits/addresses', { body })).status >= 500, true)
    const retry = await call('POST', '/v2/accounts/a1/transfers/deposits/addresses', { body }).then(
      () => undefined,
      (err: unknown) => err as GatewayError,
    )
    t.equal(retry?.spec.reason, 'idempotency_in_progress', `${proxy}: the backend, or a proxy in front of it, may have acted before failing: held`)
    t.equal(backend.calls.length, 1)
  }
})

t.test('attack review 11: a templated 4xx after earlier items or pages of the same call went through is partial', async (t) => {
  const items = setup({ 'POST /internal/links': [{ status: 201, body: { code: 201 } }, { status: 201, body: { code: 400 } }] })
  const perItem = await items.call('POST', '/v2/accounts/a1/collateral/link', { body: '{"idempotencyKey":"k-items","legs":["1","2"]}' })
  t.same([perItem.status, json(perItem).errorType], [502, 'internal-error'], `per-item: ${perItem.body}`)
  const one = setup({ 'POST /internal/links': [{ status: 201, body: { code: 400 } }] })
  const single = await one.call('POST', '/v2/accounts/a1/collateral/link', { body: '{"idempotencyKey":"k-one","legs":["1", "2"]}' })
  t.equal(single.status, 502, 'the same with every item answering 400 in its body: items before the last went through')

  const paged = setup({ 'POST /internal/batch-addresses?offset=0&limit=1': [{ status: 201, body: { done: [1] } }], 'POST /internal/batch-addresses?offset=1&limit=1': [{ status: 201, body: { done: [], code: 400 } }] })
  const pagedAnswer = await paged.call('POST', '/v2/accounts/a1/collateral/c-1/addresses', { body: '{"idempotencyKey":"k-paged"}' })
  t.same([pagedAnswer.status, json(pagedAnswer).errorType], [502, 'internal-error'], `paged: ${pagedAnswer.body}`)
  const onePage = setup({ 'POST /internal/batch-addresses?offset=0&limit=1': [{ status: 201, body: { done: [], code: 400 } }] })
  const onePageAnswer = await onePage.call('POST', '/v2/accounts/a1/collateral/c-1/addresses', { body: '{"idempotencyKey":"k-one-page"}' })
  t.equal(onePageAnswer.status, 400, 'one request, its own verdict: the 4xx as the template makes it')
})

t.test('attack review 12: a call\'s own 5xx that its rules make a 4xx is its refusal, not progress', async (t) => {
  const refusal = { status: 500, body: { error: { code: 'INTERNAL' } } }
  const single = setup({ 'POST /internal/addresses': [refusal] })
  const answer = await single.call('POST', '/v2/accounts/a1/transfers/deposits/addresses', { body: '{"idempotencyKey":"k-own-5xx"}' })
  t.same([answer.status, json(answer)], [400, { message: 'refused', errorType: 'bad-request' }], 'a single call: the 4xx its rule makes')
  const oneItem = setup({ 'POST /internal/orders': [refusal] })
  const item = await oneItem.call('POST', '/v2/accounts/a1/trading/orders', { body: '{"idempotencyKey":"k-own-item","legs":["1"]}' })
  t.equal(item.status, 400, 'one item: the same')
  const allRefused = setup({ 'POST /internal/orders': [{ status: 422, body: { msg: 'no' } }, refusal] })
  const refusedItems = await allRefused.call('POST', '/v2/accounts/a1/trading/orders', { body: '{"idempotencyKey":"k-all-refused","legs":["1","2"]}' })
  t.equal(refusedItems.status, 400, 'every item refused, whichever way (attack review 13): a refusal, in any order')
  const twoItems = setup({ 'POST /internal/orders': [refusal, { status: 201, body: {} }] })
  const partial = await twoItems.call('POST', '/v2/accounts/a1/trading/orders', { body: '{"idempotencyKey":"k-other-item","legs":["1","2"]}' })
  t.equal(partial.status, 502, 'while another item went through: partial')
  const failedInside = setup({ 'POST /internal/orders': [{ status: 422, body: { msg: 'no' } }, { status: 200, body: { ok: false } }] })
  const inside = await failedInside.call('POST', '/v2/accounts/a1/trading/orders', { body: '{"idempotencyKey":"k-inside","legs":["1","2"]}' })
  t.equal(inside.status, 502, 'while another item failed inside a success, which may have acted (attack review 14): partial')
})

t.test('pagination: limit, startingAfter, endingBefore; refusals before the backend is called', async (t) => {
  const { backend, call } = setup()
  const ids = async (query: string) => (json(await call('GET', `/v2/accounts/a1/balances${query}`)).balances as Array<{ id: string }>).map((b) => b.id)
  t.same(await ids(''), ['w1', 'w2', 'w3', 'w4', 'w5'], 'the default limit (10) takes all five')
  t.same(await ids('?limit=2'), ['w1', 'w2'])
  t.same(await ids('?limit=2&startingAfter=w2'), ['w3', 'w4'])
  t.same(await ids('?startingAfter=w4'), ['w5'])
  t.same(await ids('?limit=2&endingBefore=w4'), ['w2', 'w3'], 'the items closest before the cursor')
  t.same(await ids('?limit=3&endingBefore=w2'), ['w1'])
  t.same(await ids('?startingAfter=nope'), [], 'an unknown cursor: an empty page')
  t.same(await ids('?limit=200'), ['w1', 'w2', 'w3', 'w4', 'w5'])
  const made = backend.calls.length
  const refused: Array<[string, string, string]> = [
    ['?startingAfter=w1&endingBefore=w4', 'schema-error', '/startingAfter'],
    ['?limit=-1', 'schema-property-error', '/limit'],
    ['?limit=abc', 'schema-property-error', '/limit'],
    ['?limit=0', 'schema-property-error', '/limit'],
    ['?limit=201', 'schema-property-error', '/limit'],
    ['?limit=1.5', 'schema-property-error', '/limit'],
    ['?limit=', 'schema-property-error', '/limit'],
  ]
  for (const [query, errorType, propertyName] of refused) {
    const err = await call('GET', `/v2/accounts/a1/balances${query}`).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(err instanceof GatewayError, `${query} refused`)
    t.same([(err as GatewayError).spec.status, (err as GatewayError).body.errorType, (err as GatewayError).body.propertyName, (err as GatewayError).body.requestPart], [400, errorType, propertyName, 'querystring'], query)
  }
  t.equal(backend.calls.length, made, 'no refused request reached the backend')
})

t.test('a scoped credential\'s GET /accounts is cut to its accounts, before pagination', async (t) => {
  const { call } = setup()
  const list = async (query: string, credential: Credential) => (json(await call('GET', `/v2/accounts${query}`, { credential })).accounts as Array<{ id: string }>).map((a) => a.id)
  t.same(await list('', unscoped), ['a1', 'a2', 'a3', 'a4', 'a5'], 'an unscoped credential sees every account')
  t.same(await list('', scoped), ['a1', 'a3'])
  t.same(await list('?limit=2', scoped), ['a1', 'a3'], 'the page is taken from the scoped list')
  t.same(await list('?startingAfter=a1', scoped), ['a3'])
  t.same((json(await call('GET', '/v2/accounts', { credential: scoped })).accounts as unknown[])[0], { id: 'a1', title: 'Account a1' }, 'items kept whole')
})

t.test('strict bodies: a body that could mean two values is refused before anything else', async (t) => {
  const { backend, call } = setup({ 'POST /internal/payouts': [{ status: 200, body: { payout_id: 'p' } }] })
  const url = '/v2/accounts/a1/transfers/withdrawals/blockchain'
  const refusals: Array<[string | Buffer, RegExp]> = [
    ['{"amount":"1","amount":"2"}', /gives the key "amount" more than once/],
    ['{"amount":"1","\\u0061mount":"2"}', /gives the key "amount" more than once/],
    ['{"amount":1e400}', /cannot be represented exactly/],
    ['{"amount":9007199254740993}', /cannot be represented exactly/],
    ['{"amount":', /not valid JSON/],
    [Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), /not valid UTF-8/],
    ['['.repeat(40) + ']'.repeat(40), /nests deeper/],
  ]
  for (const [body, message] of refusals) {
    const err = await call('POST', url, { body: body as string }).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(err instanceof GatewayError, `${String(body).slice(0, 30)} refused`)
    t.same([(err as GatewayError).spec.status, (err as GatewayError).body.errorType, (err as GatewayError).body.requestPart], [400, 'schema-error', 'body'])
    t.match((err as GatewayError).message, message)
  }
  t.equal(backend.calls.length, 0, 'none reached the backend')
  t.equal((await call('POST', url, { body: '{"idempotencyKey":"k-ok","amount":"1"}' })).status, 201, 'a clean body passes')
})

t.test('an idempotencyKey longer than 256 characters is refused', async (t) => {
  const { backend, call } = setup({ 'POST /internal/payouts': [{ status: 200, body: { payout_id: 'p' } }] })
  const url = '/v2/accounts/a1/transfers/withdrawals/blockchain'
  await t.rejects(call('POST', url, { body: JSON.stringify({ idempotencyKey: 'k'.repeat(257) }) }), { name: 'GatewayError', message: /longer than 256/ })
  t.equal(backend.calls.length, 0)
  t.equal((await call('POST', url, { body: JSON.stringify({ idempotencyKey: 'k'.repeat(256) }) })).status, 201, '256 is allowed')
})
