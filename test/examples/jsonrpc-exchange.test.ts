import t from 'tap'
import { spawnSync } from 'node:child_process'
import { buildJsonRpcExchange } from '../../examples/jsonrpc-exchange/app.js'
import { CLIENTS } from '../../examples/jsonrpc-exchange/state.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway } from '../helpers/gateway.js'
import { repoPath } from '../helpers/paths.js'
import { specFile, specMissing } from '../helpers/spec.js'

/**
 * The second example backend, JSON-RPC 2.0, behind the gateway with its YAML
 * mappings (config/jsonrpc/mappings), over real HTTP with signed requests; with
 * the OpenAPI document (when present), responses enforced.
 */
const calls: Array<{ client: unknown; method: unknown; params: unknown }> = []
const exchange = buildJsonRpcExchange({ onCall: (call) => calls.push(call) })
const exchangeUrl = await exchange.listen({ host: '127.0.0.1', port: 0 })
const gateway = await startGateway({
  config: {
    auth: hmac.auth,
    upstream: { url: exchangeUrl, subjectHeader: 'x-rpc-client' },
    mappings: [repoPath('config/jsonrpc/mappings')],
    ...(specMissing ? {} : { openapi: { file: specFile, responseValidation: 'enforce' } }),
  },
  credentials: [
    { apiKey: 'test-key', secret: { env: 'S' }, subject: CLIENTS.northwind },
    { apiKey: 'stranger', secret: { env: 'S' }, subject: 'c-unknown' },
  ],
  env: hmac.env,
})
t.teardown(async () => {
  await gateway.close()
  await exchange.close()
})
const get = async (path: string, apiKey = 'test-key') => {
  const before = calls.length
  const res = await send(gateway.url, { path: `/v2${path}`, key: hmac.key, apiKey })
  return { status: res.status, json: res.json, text: res.text, calls: calls.slice(before).map((c) => `${String(c.method)} ${JSON.stringify(c.params)}`) }
}
const ids = (json: Record<string, unknown>) => (json.accounts as Array<{ id: string }>).map((a) => a.id)

t.test('GET /capabilities, from YAML alone', async (t) => {
  const res = await get('/capabilities')
  t.same([res.status, res.json, res.calls], [200, { version: '0.5.1', components: { accounts: '*', balances: '*' } }, []])
})

t.test('GET /accounts: offset pages inside `result`, paged again by id', async (t) => {
  const all = await get('/accounts')
  t.equal(all.status, 200, all.text)
  t.same(ids(all.json), ['ACC-1001', 'ACC-1002', 'ACC-1003', 'ACC-1004', 'ACC-1005', 'ACC-1006', 'ACC-1007'])
  t.same(all.calls, ['accounts.list {"offset":0,"limit":5}', 'accounts.list {"offset":5,"limit":5}'], 'two pages of five, no balances calls')
  t.same((all.json.accounts as unknown[])[1], { id: 'ACC-1002', title: 'Northwind OTC desk', status: 'active', parentId: 'ACC-1001' })
  t.same((all.json.accounts as unknown[])[6], { id: 'ACC-1007', title: 'Northwind dormant', status: 'inactive', parentId: 'ACC-1001' })
  t.same(ids((await get('/accounts?limit=2&startingAfter=ACC-1002')).json), ['ACC-1003', 'ACC-1004'])
  t.same(ids((await get('/accounts?limit=2&endingBefore=ACC-1002')).json), ['ACC-1001'])
})

t.test('GET /accounts?balances=true: one balances call per account, joined to its account', async (t) => {
  const res = await get('/accounts?balances=true')
  t.equal(res.status, 200, res.text)
  t.equal(res.calls.filter((c) => c.startsWith('accounts.balances')).length, 7, '1 + N: seven accounts, seven balances calls (after the two list pages)')
  const [main, otc] = res.json.accounts as Array<{ id: string; balances: unknown[] }>
  t.same(main?.balances, [
    { id: 'USD', asset: { nationalCurrencyCode: 'USD' }, availableAmount: '15000.75', lockedAmount: '200' },
    { id: 'BTC', asset: { blockchain: 'Bitcoin', cryptocurrencySymbol: 'BTC' }, availableAmount: '1.5', lockedAmount: '0' },
    { id: 'ETH', asset: { blockchain: 'Ethereum', cryptocurrencySymbol: 'ETH' }, availableAmount: '1234.567890123456789012', lockedAmount: '0.005' },
  ], 'wei beyond 2^53, every digit kept')
  t.same(otc?.balances, [{ id: 'USD', asset: { nationalCurrencyCode: 'USD' }, availableAmount: '100', lockedAmount: '0' }], "each account gets its own answer, not a neighbour's")
})

t.test('GET /accounts/{accountId}, with and without balances', async (t) => {
  const res = await get('/accounts/ACC-1003')
  t.same([res.status, res.json, res.calls], [200, { id: 'ACC-1003', title: 'Northwind treasury', status: 'active', parentId: 'ACC-1001' }, ['accounts.get {"account":"ACC-1003"}']])
  const withBalances = await get('/accounts/ACC-1003?balances=true')
  t.same(withBalances.json.balances, [{ id: 'USD', asset: { nationalCurrencyCode: 'USD' }, availableAmount: '200', lockedAmount: '0' }])
  t.same(withBalances.calls.length, 2)
})

t.test('GET /accounts/{accountId}/balances, filtered', async (t) => {
  const res = await get('/accounts/ACC-1001/balances?cryptocurrencySymbol=ETH')
  t.same([res.status, res.json], [200, { balances: [{ id: 'ETH', asset: { blockchain: 'Ethereum', cryptocurrencySymbol: 'ETH' }, availableAmount: '1234.567890123456789012', lockedAmount: '0.005' }] }])
  t.same(res.calls, ['accounts.balances {"account":"ACC-1001","currency":"ETH"}'])
  t.same((await get('/accounts/ACC-1001/balances?limit=1&startingAfter=USD')).json, { balances: [{ id: 'BTC', asset: { blockchain: 'Bitcoin', cryptocurrencySymbol: 'BTC' }, availableAmount: '1.5', lockedAmount: '0' }] })
})

t.test('an error inside a 200 answer is a Network Link 404, conforming to the error schema (enforced when the document is present)', async (t) => {
  for (const path of ['/accounts/ACC-9999', '/accounts/ACC-9999?balances=true', '/accounts/ACC-2001', '/accounts/ACC-9999/balances']) {
    const res = await get(path)
    t.same([res.status, res.json.errorType], [404, 'not-found'], path)
    t.match(res.json.message, /^no account ACC-/)
  }
  const stranger = await get('/accounts', 'stranger')
  t.same([stranger.status, stranger.json], [500, { message: 'The exchange could not answer', errorType: 'internal-error' }], 'any other JSON-RPC error')
  if (!specMissing) {
    const invalid = await gateway.metrics.registry.getSingleMetric('nlgw_response_validation_failures_total')?.get()
    t.same(invalid?.values.filter((v) => v.value > 0), [], 'no answer broke the spec')
  }
})

t.test('config/jsonrpc passes nlgw check, against the spec when it is there', async (t) => {
  const res = spawnSync(process.execPath, [repoPath('dist/src/cli/nlgw.js'), 'check', repoPath('config/jsonrpc/gateway.yaml')], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...(specMissing ? {} : { NLGW_OPENAPI: specFile }) },
  })
  t.equal(res.status, 0, res.stdout + res.stderr)
  t.match(res.stdout, specMissing ? /ok — 4 mapped route\(s\) in 2 file\(s\)/ : /ok — 4 mapped route\(s\) in 2 file\(s\), 1 credential\(s\) from files, in-memory stores, checked against 50 Network Link operations/)
})
