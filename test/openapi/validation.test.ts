import t from 'tap'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway } from '../helpers/gateway.js'
import { specFile, specMissing } from '../helpers/spec.js'
import { loadConfig } from '../../src/config/load.js'
import { createGateway } from '../../plugins/gateway.js'
import { ConfigError, formatProblem } from '../../src/config/problems.js'
import { join } from 'node:path'

const mapping = `routes:
  - route: GET /accounts/{accountId}/balances
    upstream: { get: "/wallets/{accountId}" }
    paginate: balances
    response:
      balances:
        $each: $body.wallets
        id: $item.id
        asset: { nationalCurrencyCode: USD }
        availableAmount: { $decimal: $item.minor, scale: 2 }
  - route: GET /accounts/{accountId}
    upstream: { get: "/accounts/{accountId}" }
    response: { id: $params.accountId, status: active, title: { $coalesce: [$body.name, "Main"] } }
  - route: POST /accounts/{accountId}/transfers/withdrawals/blockchain
    upstream: { post: /payouts, body: { amount: { $minor: $body.balanceAmount, scale: 2 } } }   # answered as the backend sends it
`
const wallets = Array.from({ length: 25 }, (_, i) => ({ id: `w${String(i).padStart(2, '0')}`, minor: i * 100 }))

t.test('OpenAPI-driven validation', { skip: specMissing }, async (t) => {
  const backend = await Backend.start((req) =>
    req.url.startsWith('/wallets/') ? { body: { wallets } } : req.url.startsWith('/accounts/bad') ? { body: { name: 42 } } : req.url.startsWith('/accounts/') ? { body: {} } : { status: 201, body: { id: 'p-1' } },
  )
  t.teardown(() => backend.close())
  const setup = (responseValidation: string) =>
    startGateway({
      config: {
        auth: hmac.auth,
        upstream: { url: backend.url },
        mappings: ['mappings.yaml'],
        openapi: { file: specFile, responseValidation },
      },
      credentials: hmac.credentials,
      env: hmac.env,
      files: { 'mappings.yaml': mapping },
    })
  const gateway = await setup('enforce')
  t.teardown(() => gateway.close())
  const key = hmac.key
  const get = (path: string) => send(gateway.url, { path: `/v2${path}`, key })

  t.test('query: invalid limits and both cursors, as the validator expects', async (t) => {
    for (const limit of [-1, 0, 201, 'ten']) {
      const res = await get(`/accounts/a/balances?limit=${limit}`)
      t.equal(res.status, 400, `limit ${limit}`)
      t.match(res.json, { errorType: 'schema-property-error', requestPart: 'querystring', propertyName: '/limit' })
    }
    const both = await get('/accounts/a/balances?startingAfter=x&endingBefore=y')
    t.equal(both.status, 400)
    t.match(both.json, { errorType: 'schema-error', requestPart: 'querystring', message: "Only one of the parameters 'startingAfter' and 'endingBefore' can be used." })
  })

  t.test('gateway pagination over a whole list', async (t) => {
    const ids = async (query: string) => ((await get(`/accounts/a/balances${query}`)).json.balances as Array<{ id: string }>).map((b) => b.id)
    t.same(await ids(''), wallets.slice(0, 10).map((w) => w.id), 'default limit 10 from the spec')
    t.same(await ids('?limit=3&startingAfter=w05'), ['w06', 'w07', 'w08'])
    t.same(await ids('?limit=3&endingBefore=w05'), ['w02', 'w03', 'w04'])
    t.same(await ids('?limit=3&endingBefore=w01'), ['w00'])
    t.same(await ids('?startingAfter=w24'), [], 'after the last item: an empty list')
    t.same(await ids('?startingAfter=nope'), [], 'an unknown cursor: an empty list')
    // Walk all pages the way the validator does.
    const all: string[] = []
    let cursor = ''
    for (let page = 0; page < 20; page++) {
      const got = await ids(`?limit=7${cursor ? `&startingAfter=${cursor}` : ''}`)
      if (!got.length) break
      all.push(...got)
      cursor = got.at(-1) as string
    }
    t.same(all, wallets.map((w) => w.id), 'paging by startingAfter visits every item once')
  })

  t.test('body: validated before the backend sees it', async (t) => {
    const before = backend.requests.length
    const res = await send(gateway.url, { method: 'POST', path: '/v2/accounts/a/transfers/withdrawals/blockchain', key, body: JSON.stringify({ idempotencyKey: 'k' }) })
    t.equal(res.status, 400)
    t.match(res.json, { errorType: 'schema-property-error', requestPart: 'body', propertyName: '/balanceAmount' })
    t.equal(backend.requests.length, before, 'refused before the backend')
  })

  t.test('strict response validation; success statuses from the spec', async (t) => {
    const bad = await get('/accounts/bad')
    t.same([bad.status, bad.json], [502, { message: 'Backend answer does not conform to the Network Link schema', errorType: 'internal-error' }])
    const counted = await gateway.metrics.registry.getSingleMetric('nlgw_response_validation_failures_total')?.get()
    t.same(counted?.values.map((v) => [v.labels.route, v.value]), [['GET /accounts/{accountId}', 1]])
    const lenient = await setup('report')
    t.teardown(() => lenient.close())
    const passed = await send(lenient.url, { path: '/v2/accounts/bad', key })
    t.same([passed.status, passed.json], [200, { id: 'bad', status: 'active', title: 42 }], 'report: passed through, only logged and counted')
      const ok = await send(lenient.url, {
    method: 'POST',
    path: '/v2/accounts/a/transfers/withdrawals/blockchain',
    key,
    body: JSON.stringify({
      idempotencyKey: 'k-ok',
      balanceAmount: '1.5',
      balanceAsset: { nationalCurrencyCode: 'USD' },
      transferMethod: 'PublicBlockchain',
      destination: { transferMethod: 'PublicBlockchain', asset: { blockchain: 'Bitcoin', cryptocurrencySymbol: 'BTC' }, address: 'bc1x', amount: '1.5' },
    }),
    })
    t.equal(ok.status, 201, `spec says 201 for this create: ${ok.text}`)

  })
})

t.test('mapped routes must exist in the spec', { skip: specMissing }, async (t) => {
  const gateway = await startGateway({
    config: { auth: hmac.auth, upstream: { url: 'http://127.0.0.1:9' } },
    credentials: [{ apiKey: 'k', secret: { env: 'S' }, subject: 'u' }],
    env: { S: 's' },
  })
  await gateway.close()
  const { writeFileSync } = await import('node:fs')
  writeFileSync(join(gateway.dir, 'mappings.yaml'), 'routes:\n  - route: GET /accounts/{id}/balances\n    response: {}\n  - route: GET /balances\n    response: {}\n')
  writeFileSync(join(gateway.dir, 'gateway.yaml'), `auth: { scheme: { algorithm: hmac, hash: sha256, preEncoding: plain, postEncoding: base64 }, credentials: [{ file: credentials.yaml }] }\nupstream: { url: "http://127.0.0.1:9" }\nmappings: [mappings.yaml]\nopenapi: { file: ${specFile} }\n`)
  try {
    await createGateway(loadConfig(join(gateway.dir, 'gateway.yaml'), { S: 's' }), { logger: false })
    t.fail('started with unknown routes')
  } catch (err) {
    t.type(err, ConfigError)
    const lines = (err as ConfigError).problems.map(formatProblem).map((l) => l.slice(l.indexOf('mappings.yaml')))
    t.same(lines, [
      'mappings.yaml:2:12: routes[0].route: GET /accounts/{id}/balances is not a Network Link route (did you mean GET /accounts/{accountId}/balances?)',
      'mappings.yaml:4:12: routes[1].route: GET /balances is not a Network Link route',
    ])
  }
})
