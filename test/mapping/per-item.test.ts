import t from 'tap'
import { Backend, type RecordedRequest } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, mappedGateway } from '../helpers/gateway.js'
import { paginate } from '../../src/mapping/paginate.js'

/**
 * A backend with one balances call per account, and an account list paged by
 * offset inside a nested envelope, with the paging parameters in the POST body.
 */
const ACCOUNTS = ['a0', 'a1', 'a2', 'a3', 'a4'].map((no, i) => ({ no, name: `Account ${i}` }))
let inFlight = 0
let maxInFlight = 0
let missing = new Set<string>()

function legacy(req: RecordedRequest) {
  if (req.url === '/list' && req.method === 'POST') {
    const { from, count } = JSON.parse(req.body.toString()) as { from: number; count: number }
    return { body: { result: { page: { items: ACCOUNTS.slice(from, from + count), total: ACCOUNTS.length } } } }
  }
  const balances = /^\/accounts\/([^/]+)\/balances$/.exec(req.url)
  if (balances) {
    const no = balances[1] as string
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    // Answered after a while, so that calls overlap; counted down when the answer is sent.
    setTimeout(() => inFlight--, 40)
    if (missing.has(no)) return { status: 404, body: { msg: 'gone' }, delayMs: 40 }
    return { body: { wallets: [{ id: `${no}-usd`, minor: Number(no.slice(1)) * 100 }] }, delayMs: 40 }
  }
  return { status: 404, body: { msg: 'no route' } }
}

const mapping = `routes:
  - route: GET /accounts
    upstream:
      - name: list
        post: /list
        body: { from: $page.offset, count: $page.limit }          # the backend pages in the body
        pages: { items: result.page.items, total: result.page.total, size: 2 }
      - name: balances
        if: { $eq: [$query.balances, true] }
        each: $list.result.page.items
        as: account
        concurrency: 2
        get: "/accounts/{$account.no}/balances"
    paginate: accounts
    errors:
      - when: { status: 404 }
        errorType: not-found
        message: "account {$account.no}: {$body.msg}"
    response:
      accounts:
        $each: $list.result.page.items
        $as: account
        id: $account.no
        title: $account.name
        status: active
        balances:
          $if: { $exists: $balances }
          then:
            $each: $balances[$index].wallets
            id: $item.id
            asset: { nationalCurrencyCode: USD }
            availableAmount: { $decimal: $item.minor, scale: 2 }
`

const backend = await Backend.start(legacy)
t.teardown(() => backend.close())
const gateway = await mappedGateway(t, mapping, backend.url)
const get = async (query: string) => {
  const before = backend.requests.length
  const res = await send(gateway.url, { path: `/v2/accounts${query}`, key: hmac.key })
  return { ...res, calls: backend.requests.slice(before).map((r) => `${r.method} ${r.url}${r.body.length ? ` ${r.body}` : ''}`) }
}

t.test('a per-item call runs once per element, at most `concurrency` at a time, joined by index', async (t) => {
  maxInFlight = 0
  const res = await get('?balances=true&limit=20')
  t.equal(res.status, 200, res.text)
  t.same(res.json.accounts, ACCOUNTS.map((a, i) => ({ id: a.no, title: a.name, status: 'active', balances: [{ id: `${a.no}-usd`, asset: { nationalCurrencyCode: 'USD' }, availableAmount: String(i) }] })))
  t.same(res.calls.slice(0, 3), ['POST /list {"from":0,"count":2}', 'POST /list {"from":2,"count":2}', 'POST /list {"from":4,"count":2}'], 'pages read from a nested envelope, the offset placed in the body')
  t.same(res.calls.slice(3).sort(), ACCOUNTS.map((a) => `GET /accounts/${a.no}/balances`), 'N accounts, N balances calls')
  t.equal(maxInFlight, 2, 'never more than two calls in flight')
})

t.test('a skipped per-item call makes no calls; the response still pages', async (t) => {
  const res = await get('?limit=2&startingAfter=a1')
  t.same(res.json, { accounts: [{ id: 'a2', title: 'Account 2', status: 'active' }, { id: 'a3', title: 'Account 3', status: 'active' }] })
  t.equal(res.calls.length, 3, 'only the three list pages')
})

t.test('a per-item failure follows the route error rules; the element is in scope', async (t) => {
  missing = new Set(['a3'])
  t.teardown(() => (missing = new Set()))
  const res = await get('?balances=true')
  t.same([res.status, res.json], [404, { message: 'account a3: gone', errorType: 'not-found' }])
})

t.test('paginate takes a path to the list and to each id', async (t) => {
  const body = { data: { list: [{ ref: { id: 'x' } }, { ref: { id: 'y' } }, { ref: { id: 'z' } }] }, other: 1 }
  t.same(paginate(body, { list: ['data', 'list'], id: ['ref', 'id'] }, { startingAfter: 'x', limit: 1 }, 'here'), { data: { list: [{ ref: { id: 'y' } }] }, other: 1 })
  t.same(body.data.list.length, 3, 'the answer is not changed in place')
})
