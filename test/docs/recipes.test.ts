import t from 'tap'
import { readFileSync } from 'node:fs'
import { Backend, type RecordedRequest, type Responder } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, mappedGateway } from '../helpers/gateway.js'
import { repoPath } from '../helpers/paths.js'
import { specFile, specMissing } from '../helpers/spec.js'

/**
 * Every recipe in docs/mapping.md, read from the page itself and run as
 * written: a gateway with the recipe as its only mapping file, in front of a
 * backend shaped as the recipe's comment says, over signed HTTP; with the
 * OpenAPI document (when present), the recipe passes the static check and its
 * answers are enforced.
 */
const page = readFileSync(repoPath('docs/mapping.md'), 'utf8')
const recipes = new Map([...page.matchAll(/```yaml recipe=([\w-]+)\n([\s\S]*?)```/g)].map((m) => [m[1] as string, m[2] as string]))

type Check = (call: (method: string, path: string, body?: unknown) => Promise<{ status: number; json: Record<string, unknown>; urls: string[] }>, t: Assert) => Promise<void>
type Assert = Pick<typeof t, 'same' | 'match'>

const json = (req: RecordedRequest) => JSON.parse(req.body.toString() || '{}') as Record<string, number>
const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `a${i}`, name: `Account ${i}`, currency: 'USD', available: `${i}.5` }))
const balance = (i: number) => ({ id: `a${i}`, asset: { nationalCurrencyCode: 'USD' }, availableAmount: `${i}.5` })

/** For each recipe: the backend its comment describes, and what the gateway must answer. */
const cases: Record<string, { backend: Responder; check: Check }> = {
  'errors-in-2xx': {
    backend: (req) => {
      const id = req.url.split('/').at(-1)
      if (id === 'gone') return { body: { ok: false, error: { code: 'NOT_FOUND', text: 'no account gone' } } }
      if (id === 'odd') return { body: { ok: false, error: { code: 'BUSY' } } }
      return { body: { ok: true, data: { id, name: 'Main', state: 'open' } } }
    },
    async check(call, t) {
      t.same(await call('GET', '/accounts/a1').then((r) => [r.status, r.json]), [200, { id: 'a1', title: 'Main', status: 'active' }])
      t.same(await call('GET', '/accounts/gone').then((r) => [r.status, r.json]), [404, { message: 'no account gone', errorType: 'not-found' }])
      t.same(await call('GET', '/accounts/odd').then((r) => [r.status, r.json]), [500, { message: 'The backend could not answer', errorType: 'internal-error' }])
    },
  },
  envelopes: {
    backend: (req) => {
      const url = new URL(req.url, 'http://x')
      const offset = Number(url.searchParams.get('offset'))
      const all = rows(3)
      return { body: { payload: { page: { rows: all.slice(offset, offset + Number(url.searchParams.get('limit'))), count: all.length } } } }
    },
    async check(call, t) {
      const res = await call('GET', '/accounts/a1/balances?limit=2&startingAfter=a0')
      t.same(res.json, { balances: [balance(1), balance(2)] })
      t.same(res.urls, ['GET /api/accounts/a1/balances?offset=0&limit=2', 'GET /api/accounts/a1/balances?offset=2&limit=2'], 'two pages, stopped by the count inside the envelope')
    },
  },
  'per-item-calls': {
    backend: (req) => {
      if (req.url === '/api/accounts') return { body: { items: rows(3) } }
      const id = /^\/api\/accounts\/(\w+)\/wallets$/.exec(req.url)?.[1]
      return { body: { items: [{ currency: 'USD', available: `${Number(id?.slice(1)) * 10}` }] } }
    },
    async check(call, t) {
      const plain = await call('GET', '/accounts')
      t.same([plain.json, plain.urls], [{ accounts: rows(3).map((a) => ({ id: a.id, title: a.name, status: 'active' })) }, ['GET /api/accounts']])
      const full = await call('GET', '/accounts?balances=true')
      t.same(full.json, { accounts: rows(3).map((a, i) => ({ id: a.id, title: a.name, status: 'active', balances: [{ id: 'USD', asset: { nationalCurrencyCode: 'USD' }, availableAmount: `${i * 10}` }] })) })
      t.same(full.urls.sort(), ['GET /api/accounts', 'GET /api/accounts/a0/wallets', 'GET /api/accounts/a1/wallets', 'GET /api/accounts/a2/wallets'], 'N + 1 calls')
    },
  },
  'offset-paging': {
    backend: (req) => {
      const url = new URL(req.url, 'http://x')
      if (req.method === 'POST') {
        const { from, size } = json(req)
        return { body: { hits: rows(250).slice(from, (from as number) + (size as number)), total: 250 } }
      }
      const skip = Number(url.searchParams.get('skip'))
      return { body: { rows: rows(120).slice(skip, skip + Number(url.searchParams.get('take'))) } }
    },
    async check(call, t) {
      const balances = await call('GET', '/accounts/a1/balances?limit=1&startingAfter=a109')
      t.same([balances.json, balances.urls], [{ balances: [balance(110)] }, ['GET /api/accounts/a1/balances?skip=0&take=100', 'GET /api/accounts/a1/balances?skip=100&take=100']])
      const accounts = await call('GET', '/accounts?limit=2&startingAfter=a247')
      t.same(accounts.json, { accounts: [{ id: 'a248', title: 'Account 248', status: 'active' }, { id: 'a249', title: 'Account 249', status: 'active' }] })
      t.same(accounts.urls, ['POST /api/accounts/search {"from":0,"size":100}', 'POST /api/accounts/search {"from":100,"size":100}', 'POST /api/accounts/search {"from":200,"size":100}'])
    },
  },
  'minor-units': {
    backend: (req) =>
      req.method === 'POST'
        ? { body: `{"quote_id":"q-1","sell_cents":${json(req).sell_cents},"buy_sats":1000001,"fee_bps":25,"created_ms":1691606624184,"expires_ms":1691606684184}` }
        : { body: '{"balances":[{"symbol":"ETH","available_wei":1234567890123456789012}]}' },
    async check(call, t) {
      t.same((await call('GET', '/accounts/a1/balances')).json, { balances: [{ id: 'ETH', asset: { blockchain: 'Ethereum', cryptocurrencySymbol: 'ETH' }, availableAmount: '1234.567890123456789012' }] })
      const quote = { fromAsset: { nationalCurrencyCode: 'USD' }, toAsset: { blockchain: 'Bitcoin', cryptocurrencySymbol: 'BTC' }, fromAmount: '650.25' }
      const res = await call('POST', '/accounts/a1/liquidity/quotes', quote)
      t.same([res.status, res.urls], [200, ['POST /api/accounts/a1/quotes {"sell_cents":65025}']])
      t.match(res.json, { fromAmount: '650.25', toAmount: '0.01000001', conversionFeeBps: 25, status: 'ready', createdAt: '2023-08-09T18:43:44.184Z' })
      const truncated = await call('POST', '/accounts/a1/liquidity/quotes', { ...quote, fromAmount: '0.001' })
      t.same([truncated.status, truncated.json.errorType, truncated.urls], [400, 'bad-request', []], 'never truncated: refused before the backend')
    },
  },
}

t.test('every recipe on the page is tested, every tested recipe is on the page', async (t) => {
  t.same([...recipes.keys()].sort(), Object.keys(cases).sort())
})

for (const [name, yaml] of recipes) {
  const recipe = cases[name]
  if (!recipe) continue
  t.test(`recipe: ${name}`, async (t) => {
    const backend = await Backend.start(recipe.backend)
    t.teardown(() => backend.close())
    const gateway = await mappedGateway(t, yaml, backend.url, specMissing ? {} : { openapi: { file: specFile, responseValidation: 'enforce' } })
    await recipe.check(async (method, path, body) => {
      const before = backend.requests.length
      const res = await send(gateway.url, { method, path: `/v2${path}`, key: hmac.key, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
      const urls = backend.requests.slice(before).map((r) => `${r.method} ${r.url}${r.body.length ? ` ${r.body}` : ''}`)
      return { status: res.status, json: res.json, urls }
    }, t)
  })
}
