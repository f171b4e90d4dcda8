import t from 'tap'
import { Backend, type RecordedRequest } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { startGateway, hmac } from '../helpers/gateway.js'

/** A small legacy API: its own paths, snake_case, minor units, its own error envelope. */
function legacy(req: RecordedRequest) {
  const url = new URL(req.url, 'http://legacy')
  const user = req.headers['x-legacy-user']
  if (url.pathname === '/slow') return { delayMs: 500, body: {} }
  if (url.pathname === '/big') return { body: '{"amount_minor": 123456789012345678901234567890, "amount_float": 0.30000000000000004}' }
  if (url.pathname === '/ledger') {
    // offset paging, 4 per page at most, whatever the client asks
    const offset = Number(url.searchParams.get('offset'))
    const size = Math.min(Number(url.searchParams.get('size')), 4)
    const count = url.searchParams.get('count') === 'total' ? 8 : 11 // with count=total, 8 entries: two full pages, no short one
    return { body: { entries: Array.from({ length: count }, (_, i) => ({ ref: `e${i}` })).slice(offset, offset + size), total: count } }
  }
  if (url.pathname === '/html') return { headers: { 'content-type': 'text/html' }, body: '<html>oops</html>' }
  if (url.pathname.startsWith('/internal/v1/users/') && url.pathname.endsWith('/profile')) {
    return { body: { uid: user, display_name: 'Ada', created_ms: 1691606624184 } }
  }
  const wallets = /^\/internal\/v1\/users\/([^/]+)\/accounts\/([^/]+)\/wallets$/.exec(url.pathname)
  if (wallets) {
    if (wallets[2] === 'missing') return { status: 404, body: { error: { code: 'ACCOUNT_NOT_FOUND', msg: 'no such account' } } }
    if (wallets[2] === 'frozen') return { status: 423, body: { error: { code: 'FROZEN', msg: 'account frozen' } } }
    if (wallets[2] === 'crash') return { status: 500, body: { error: { code: 'BOOM' } } }
    return { body: { data: [{ wallet_id: 'w1', ccy: 'btc', avail: 150000000, hold: '1', dp: 8, state: 1 }, { wallet_id: 'w2', ccy: 'usd', avail: 12345, hold: 0, dp: 2, state: 3 }] } }
  }
  if (url.pathname === '/internal/v1/payouts' && req.method === 'POST') {
    const body = JSON.parse(req.body.toString()) as Record<string, unknown>
    if (body.amount_minor === 0) return { status: 422, body: { error: { code: 'AMOUNT_TOO_SMALL', msg: 'minimum is 1' } } }
    return { status: 201, body: { payout_id: 'p-1', status: 'QUEUED', echo: body } }
  }
  return { status: 404, body: { error: { code: 'NO_ROUTE' } } }
}

const mapping = `
fragments:
  # anchors only: not compiled by themselves
  title: &title $profile.display_name
defaults:
  errors:
    - when: { status: 404, $body.error.code: ACCOUNT_NOT_FOUND }
      errorType: not-found
      message: "{$body.error.msg}"
routes:
  - route: GET /capabilities
    response: { version: "0.1.1", components: { accounts: "*" }, by: $subject }
  - route: GET /accounts/{accountId}/balances
    upstream:
      get: /internal/v1/users/{subject}/accounts/{accountId}/wallets
      query: { currency: $query.cryptocurrencySymbol, tag: [a, b] }
      headers: { x-trace: "nl-{$requestId}" }
      timeout: 2s
    errors:
      - when: { status: 423 }
        status: 400
        errorType: bad-request
        message: $body.error.msg
        propertyName: /accountId
        requestPart: params
    response:
      balances:
        $each: $body.data
        id: $item.wallet_id
        asset: { cryptocurrencySymbol: { $upper: $item.ccy } }
        availableAmount: { $decimal: $item.avail, scale: $item.dp }
        lockedAmount: { $decimal: $item.hold, scale: $item.dp }
        status: { $switch: $item.state, 1: active, 3: frozen }
  - route: GET /accounts/{accountId}
    upstream:
      - name: profile
        get: /internal/v1/users/{subject}/profile
      - name: wallets
        get: /internal/v1/users/{$profile.uid}/accounts/{accountId}/wallets
    response:
      id: $params.accountId
      title: $profile.display_name
      since: { $date: $profile.created_ms }
      walletCount: { $each: $wallets.data, $value: $item.wallet_id }
  - route: GET /accounts
    upstream:
      - name: profile
        get: /internal/v1/users/{subject}/profile
      - name: wallets
        if: { $eq: [$query.balances, true] }
        get: /internal/v1/users/{subject}/accounts/main/wallets
    response:
      title: *title
      wallets: { $if: { $exists: $wallets }, then: { $each: $wallets.data, $value: $item.wallet_id } }
      answeredBy: $body.uid
  - route: POST /accounts/{accountId}/transfers/withdrawals/blockchain
    upstream:
      post: /internal/v1/payouts
      body:
        account: $params.accountId
        amount_minor: { $minor: $body.amount, scale: 8 }
        asset: { $lower: $body.asset }
        note: $body.note
    status: 201
    errors:
      - when: { status: 422, $body.error.code: AMOUNT_TOO_SMALL }
        errorType: amount-below-minimum
        message: $body.error.msg
    response: { id: $body.payout_id, status: { $switch: $body.status, QUEUED: Pending }, sent: $body.echo }
  - route: GET /accounts/{accountId}/rate
    upstream: { get: /slow, timeout: 100ms }
  - route: GET /accounts/{accountId}/transfers/deposits
    upstream: { get: /big, exactNumbers: true }
    response: { exact: { $decimal: $body.amount_minor, scale: 18 }, float: { $decimal: $body.amount_float } }
  - route: GET /accounts/{accountId}/transfers/withdrawals
    upstream: { get: /big }
    response: { rounded: { $decimal: $body.amount_minor, scale: 18 } }
  - route: GET /accounts/{accountId}/ramps
    upstream: { get: /html }
  - route: GET /accounts/{accountId}/transfers/deposits/addresses
    upstream: { get: /ledger, pages: { items: entries, limit: size, size: 4 } }
    paginate: { list: addresses, id: ref }
    response: { addresses: { $each: $body.entries, ref: $item.ref } }
  - route: GET /accounts/{accountId}/transfers/withdrawals/blockchain
    upstream: { get: /ledger, query: { count: total }, pages: { items: entries, limit: size, size: 4, total: total } }
    response: { withdrawals: { $each: $body.entries, id: $item.ref } }
`

const backend = await Backend.start(legacy)
const gateway = await startGateway({
  config: {
    auth: hmac.auth,
    upstream: { url: backend.url, subjectHeader: 'x-legacy-user' },
    mappings: ['mappings.yaml'],
  },
  credentials: [{ apiKey: 'test-key', secret: { env: 'S' }, subject: 'user/1' }],
  env: { S: 's' },
  files: { 'mappings.yaml': mapping },
})
t.teardown(async () => {
  await gateway.close()
  await backend.close()
})
const key = { hmac: 's', hash: 'sha256' } as const
const get = (path: string) => send(gateway.url, { path: `/v2${path}`, key })

t.test('path values are encoded, the origin never changes, query and headers are templated', async (t) => {
  const res = await get('/accounts/a%3F%23b%20..%40c/balances?cryptocurrencySymbol=BTC')
  t.equal(res.status, 200)
  const seen = backend.requests.at(-1) as RecordedRequest
  t.equal(seen.url, '/internal/v1/users/user%2F1/accounts/a%3F%23b%20..%40c/wallets?currency=BTC&tag=a&tag=b')
  t.equal(seen.headers.host, new URL(backend.url).host, 'same origin')
  t.equal(seen.headers['x-legacy-user'], 'user/1')
  t.match(seen.headers['x-trace'], /^nl-[0-9a-f-]{36}$/)
  t.same(res.json, {
    balances: [
      { id: 'w1', asset: { cryptocurrencySymbol: 'BTC' }, availableAmount: '1.5', lockedAmount: '0.00000001', status: 'active' },
      { id: 'w2', asset: { cryptocurrencySymbol: 'USD' }, availableAmount: '123.45', lockedAmount: '0', status: 'frozen' },
    ],
  })
  for (const hostile of ['//evil.example', 'http:%2F%2Fevil.example', '%40evil.example']) {
    const before = backend.requests.length
    const r = await get(`/accounts/${hostile}/balances`)
    t.ok(r.status >= 400 ? r.status < 500 : r.status === 200, `${hostile}: ${r.status}`)
    if (backend.requests.length > before) t.equal(backend.requests.at(-1)?.headers.host, new URL(backend.url).host, `${hostile} stays on the backend`)
  }
})

t.test('a static route needs no backend; two calls combine, the second using the first', async (t) => {
  const before = backend.requests.length
  t.same((await get('/capabilities')).json, { version: '0.1.1', components: { accounts: '*' }, by: 'user/1' })
  t.equal(backend.requests.length, before)
  const res = await get('/accounts/acc-9')
  t.same(res.json, { id: 'acc-9', title: 'Ada', since: '2023-08-09T18:43:44.184Z', walletCount: ['w1', 'w2'] })
  t.same(backend.requests.slice(-2).map((r) => r.url), ['/internal/v1/users/user%2F1/profile', '/internal/v1/users/user%2F1/accounts/acc-9/wallets'])
})

t.test('a call with `if` is made only when its condition holds; a skipped call is absent', async (t) => {
  const before = backend.requests.length
  t.same((await get('/accounts')).json, { title: 'Ada', answeredBy: 'user/1' })
  t.same(backend.requests.slice(before).map((r) => r.url), ['/internal/v1/users/user%2F1/profile'], 'one call: $body is the last call made')
  const both = backend.requests.length
  t.same((await get('/accounts?balances=true')).json, { title: 'Ada', wallets: ['w1', 'w2'] })
  t.same(backend.requests.slice(both).map((r) => r.url), ['/internal/v1/users/user%2F1/profile', '/internal/v1/users/user%2F1/accounts/main/wallets'])
})

t.test('request bodies are built exactly; status and errors are translated', async (t) => {
  const path = '/v2/accounts/acc-1/transfers/withdrawals/blockchain'
  const ok = await send(gateway.url, { method: 'POST', path, key, body: JSON.stringify({ amount: '1.00000001', asset: 'BTC' }) })
  t.equal(ok.status, 201)
  t.same(ok.json, { id: 'p-1', status: 'Pending', sent: { account: 'acc-1', amount_minor: 100000001, asset: 'btc' } })
  t.equal(backend.requests.at(-1)?.body.toString(), '{"account":"acc-1","amount_minor":100000001,"asset":"btc"}')
  const small = await send(gateway.url, { method: 'POST', path, key, body: JSON.stringify({ amount: '0', asset: 'BTC' }) })
  t.same([small.status, small.json], [400, { message: 'minimum is 1', errorType: 'amount-below-minimum' }])
  const before = backend.requests.length
  const precise = await send(gateway.url, { method: 'POST', path, key, body: JSON.stringify({ amount: '0.000000001', asset: 'BTC' }) })
  t.same([precise.status, precise.json], [400, { message: '0.000000001 has more than 8 decimal places', errorType: 'bad-request' }])
  t.equal(backend.requests.length, before, 'an amount the backend cannot hold never reaches it')
  const junk = await send(gateway.url, { method: 'POST', path, key, body: '{"amount":' })
  t.same([junk.status, junk.json.errorType], [400, 'schema-error'])
  t.same((await get('/accounts/missing/balances')).json, { message: 'no such account', errorType: 'not-found' }, 'file-wide rule')
  t.same((await get('/accounts/frozen/balances')).json, { message: 'account frozen', errorType: 'bad-request', propertyName: '/accountId', requestPart: 'params' }, 'route rule')
  const crash = await get('/accounts/crash/balances')
  t.same([crash.status, crash.json], [502, { message: 'Backend answered with an error the mapping does not translate', errorType: 'internal-error' }], 'safe default')
  t.notMatch(crash.text, /BOOM/, "the backend's error is not leaked")
})

t.test('timeouts, non-JSON answers and numbers a double cannot hold', async (t) => {
  t.same([(await get('/accounts/a/rate')).status], [504], 'the per-route timeout applies')
  t.same((await get('/accounts/a/ramps')).json, { message: 'Backend answered something other than JSON', errorType: 'internal-error' })
  t.same((await get('/accounts/a/transfers/deposits')).json, { exact: '123456789012.34567890123456789', float: '0.30000000000000004' }, 'exactNumbers keeps every digit')
  const rounded = await get('/accounts/a/transfers/withdrawals')
  t.same([rounded.status, rounded.json.errorType], [502, 'internal-error'], 'without exactNumbers an unsafe number is refused, not guessed')
  const counted = await gateway.metrics.registry.getSingleMetric('nlgw_internal_errors_total')?.get()
  t.ok(counted?.values.some((v) => v.labels.reason === 'mapping_failed' && v.value >= 1), 'mapping failures are counted')
})

t.test('offset-paged backends are read page by page, then paged by id', async (t) => {
  const before = backend.requests.length
  const refs = async (query: string) => ((await get(`/accounts/a/transfers/deposits/addresses${query}`)).json.addresses as Array<{ ref: string }>).map((a) => a.ref)
  t.same(await refs('?limit=3&startingAfter=e4'), ['e5', 'e6', 'e7'])
  t.same(
    backend.requests.slice(before).map((r) => r.url),
    ['/ledger?offset=0&size=4', '/ledger?offset=4&size=4', '/ledger?offset=8&size=4'],
    'three backend pages make the whole list',
  )
  t.same(await refs('?endingBefore=e2'), ['e0', 'e1'])
  t.same(await refs(''), ['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9'], 'default limit without the spec: 10')
})

t.test('offset paging stops at the backend total, without asking for an empty page', async (t) => {
  const before = backend.requests.length
  const res = await get('/accounts/a/transfers/withdrawals/blockchain')
  t.equal((res.json.withdrawals as unknown[]).length, 8)
  t.same(backend.requests.slice(before).map((r) => r.url), ['/ledger?count=total&offset=0&size=4', '/ledger?count=total&offset=4&size=4'])
})
