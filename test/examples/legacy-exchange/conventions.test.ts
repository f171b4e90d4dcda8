import t from 'tap'
import { COLLATERAL } from '../../../examples/legacy-exchange/state/seed.js'
import { ACCOUNTS, USERS, acct, backoffice, startExchange } from './helpers.js'

t.test('callers are identified by x-legacy-user', async (t) => {
  const lx = await startExchange(t)
  for (const user of [null, 'no-such-user']) {
    const res = await lx.call('GET', acct(ACCOUNTS.acmeMain), { user })
    t.equal(res.status, 401)
    t.same(res.body, { error: { code: 'UNAUTHENTICATED', msg: 'missing or unknown x-legacy-user' } })
  }
  // Global resources need a caller too.
  t.equal((await lx.call('GET', '/internal/v1/tokens', { user: null })).status, 401)
})

t.test('the path user must be the caller, and accounts of other users do not exist for them', async (t) => {
  const lx = await startExchange(t)
  const forbidden = await lx.call('GET', acct(ACCOUNTS.globexMain, '', USERS.globex))
  t.equal(forbidden.status, 403)
  t.equal(forbidden.body.error.code, 'FORBIDDEN')
  const hidden = await lx.call('GET', acct(ACCOUNTS.globexMain))
  t.equal(hidden.status, 404)
  t.equal(hidden.body.error.code, 'ACCOUNT_NOT_FOUND')
  t.equal((await lx.call('GET', acct(ACCOUNTS.globexMain, '', USERS.globex), { user: USERS.globex })).status, 200)
})

t.test('an unknown account is reported before the body is validated', async (t) => {
  const lx = await startExchange(t)
  const res = await lx.call('POST', acct('no-such-account', '/payouts/crypto'), { body: { nonsense: true } })
  t.equal(res.status, 404)
  t.equal(res.body.error.code, 'ACCOUNT_NOT_FOUND')
})

t.test('input errors name the field', async (t) => {
  const lx = await startExchange(t)
  const missing = await lx.call('POST', acct(ACCOUNTS.acmeMain, '/payouts/crypto'), {
    body: { amount: '1', debit: { currency: 'BTC' }, send: { currency: 'BTC' } },
  })
  t.equal(missing.status, 400)
  t.match(missing.body.error, { code: 'MISSING_FIELD', field: 'address' })
  const nested = await lx.call('POST', acct(ACCOUNTS.acmeMain, '/payouts/bank'), {
    body: { amount: '1', debit: { currency: 'EUR' }, send: { currency: 'EUR' }, iban: 'DE89370400440532013000', beneficiary: {} },
  })
  t.match(nested.body.error, { code: 'MISSING_FIELD', field: 'beneficiary.name' })
  const invalid = await lx.call('POST', acct(ACCOUNTS.acmeMain, '/payouts/crypto'), {
    body: { amount: '1e3', debit: { currency: 'BTC' }, send: { currency: 'BTC' }, address: 'x' },
  })
  t.match(invalid.body.error, { code: 'INVALID_FIELD', field: 'amount' })
  const query = await lx.call('GET', acct(ACCOUNTS.acmeMain, '/payouts?limit=0'))
  t.equal(query.status, 400)
  t.match(query.body.error, { code: 'INVALID_QUERY', field: 'limit' })
  const json = await lx.call('POST', acct(ACCOUNTS.acmeMain, '/payouts/crypto'), { body: '{"amount":' })
  t.equal(json.status, 400)
  t.equal(json.body.error.code, 'MALFORMED_REQUEST')
})

t.test('unknown routes, bodiless POSTs with a JSON content type, long Fireblocks ids in paths', async (t) => {
  const lx = await startExchange(t)
  const unknown = await lx.call('GET', '/internal/v1/nowhere')
  t.equal(unknown.status, 404)
  t.equal(unknown.body.error.code, 'ROUTE_NOT_FOUND')
  const quote = await lx.call('POST', acct(ACCOUNTS.acmeMain, '/convert/quotes'), { body: { sell: { currency: 'USD' }, buy: { currency: 'BTC' }, sell_amount: '100' } })
  const accepted = await lx.call('POST', acct(ACCOUNTS.acmeMain, `/convert/quotes/${quote.body.quote_id}/accept`), { headers: { 'content-type': 'application/json' } })
  t.equal(accepted.status, 200)
  const plan = await lx.call('GET', acct(ACCOUNTS.acmeMain, `/cva/${COLLATERAL.acmeCva}/settlement-plans/current`))
  t.equal(plan.status, 200)
})

t.test('back-office calls need an operator', async (t) => {
  const lx = await startExchange(t)
  const res = await lx.call('POST', backoffice('/deposits/x/status'), { body: { status: 'CREDITED' } })
  t.equal(res.status, 401)
  t.equal(res.body.error.code, 'UNAUTHENTICATED')
  t.equal((await lx.call('POST', backoffice('/deposits/x/status'), { body: { status: 'CREDITED' }, operator: true })).status, 404)
})
