import t from 'tap'
import { TOKENS } from '../../../examples/legacy-exchange/state/catalog.js'
import { RAMP_ROUTES } from '../../../examples/legacy-exchange/state/seed.js'
import { ACCOUNTS, acct, backoffice, startExchange, type Exchange } from './helpers.js'

const USDC = { token_id: TOKENS.usdcEthereum }
const ramps = acct(ACCOUNTS.acmeMain, '/ramps')

const onRamp = (extra: object = {}) => ({
  kind: 'BUY',
  amount: '10',
  source: { asset: { currency: 'EUR' }, rail: 'IBAN' },
  target: { asset: USDC, rail: 'ONCHAIN', address: '0x91b9e7bc95f8ef6f4e08ea10aaaac84b6c54203b' },
  ...extra,
})
const prefundedOffRamp = (extra: object = {}) => ({
  kind: 'SELL',
  amount: '0.01',
  source: { asset: { currency: 'BTC' }, rail: 'BALANCE' },
  target: { asset: { currency: 'EUR' }, rail: 'IBAN', iban: 'DE89370400440532013000', beneficiary: { name: 'John Doe', city: 'Berlin' } },
  ...extra,
})

const btcWallet = async (lx: Exchange, account: string = ACCOUNTS.acmeMain) => (await lx.call('GET', acct(account, '/wallets?coin=BTC'))).body.wallets[0]
const operate = (lx: Exchange, id: string, body: object) => lx.call('POST', backoffice(`/ramps/${id}/state`), { body, operator: true })

t.test('ramp routes per account', async (t) => {
  const lx = await startExchange(t)
  const res = await lx.call('GET', acct(ACCOUNTS.acmeMain, '/ramp-routes'))
  t.equal(res.body.routes.length, 8)
  t.same(res.body.routes[0], {
    route_id: RAMP_ROUTES.eurIbanToUsdc,
    kind: 'BUY',
    source: { asset: { type: 'FIAT', currency: 'EUR' }, rail: 'IBAN' },
    target: { asset: { type: 'TOKEN', currency: 'USDC', network: 'ETHEREUM', token_id: TOKENS.usdcEthereum }, rail: 'ONCHAIN' },
    min_amount: 5,
    fee_bps: 50,
    network_fee: 1,
    ttl_s: 1800,
  })
  t.same(
    res.body.routes.map((r: { kind: string; source: { rail: string } }) => `${r.kind}/${r.source.rail}`),
    ['BUY/IBAN', 'BUY/ACH', 'SELL/ONCHAIN', 'SELL/ONCHAIN', 'BRIDGE/ONCHAIN', 'BUY/BALANCE', 'SELL/BALANCE', 'BRIDGE/BALANCE'],
  )
  t.same((await lx.call('GET', acct(ACCOUNTS.acmeDormant, '/ramp-routes'))).body.routes, [])
})

t.test('pay-in ramp: payment instructions, waiting for funds until it expires', async (t) => {
  const lx = await startExchange(t)
  const pricing = { mode: 'QUOTE', quote_ref: 'q-123', requote: { mode: 'RETRY', slippage_bps: 0.01, max_attempts: 3 } }
  const res = await lx.call('POST', ramps, { body: onRamp({ pricing, customer_ref: 'cust-9', travel_rule: { originator: {} } }) })
  t.equal(res.status, 201)
  t.match(res.body, {
    route_id: RAMP_ROUTES.eurIbanToUsdc,
    kind: 'BUY',
    funding: 'PAYIN',
    state: 'AWAITING_FUNDS',
    amount: 10,
    source: { asset: { currency: 'EUR' }, rail: 'IBAN', from_account: null, address: null },
    target: { asset: { token_id: TOKENS.usdcEthereum }, rail: 'ONCHAIN', address: '0x91b9e7bc95f8ef6f4e08ea10aaaac84b6c54203b', memo: null },
    pay_in: { rail: 'IBAN', iban: 'GB33BUKB20201555555555', bic: 'BUKBGB22', beneficiary: { name: 'Legacy Exchange Ltd Client Money' }, reference: /^RMP-[0-9A-F]{8}$/ },
    fees_est: [
      { kind: 'TRADING', asset: { currency: 'EUR' }, basis: 'BPS', value: 50 },
      { kind: 'NETWORK', asset: { token_id: TOKENS.usdcEthereum }, basis: 'FLAT', value: 1 },
    ],
    pricing,
    customer_ref: 'cust-9',
    received: null,
    settlement: null,
    expires_ms: lx.clock.now + 1_800_000,
  })
  t.notOk('travel_rule' in res.body)
  t.same((await lx.call('GET', `${ramps}/${res.body.ramp_id}`)).body, res.body)
  lx.clock.now += 1_800_000
  t.match((await lx.call('GET', `${ramps}/${res.body.ramp_id}`)).body, { state: 'EXPIRED', updated_ms: lx.clock.now })
  t.equal((await operate(lx, res.body.ramp_id, { state: 'IN_PROGRESS' })).body.error.code, 'INVALID_TRANSITION')
})

t.test('crypto pay-in gets a deposit address; ACH targets need US bank details', async (t) => {
  const lx = await startExchange(t)
  const offRamp = {
    kind: 'SELL',
    amount: '1.5',
    source: { asset: { currency: 'ETH', network: 'ETHEREUM' }, rail: 'ONCHAIN', address: '0xsender' },
    target: { asset: { currency: 'USD' }, rail: 'ACH', routing_number: '026009593', account_number: '12345678901', account_type: 'SAVINGS', bank_name: 'Chase', beneficiary: { name: 'John Doe' } },
  }
  const res = await lx.call('POST', ramps, { body: offRamp })
  t.equal(res.status, 201)
  t.match(res.body, {
    source: { address: '0xsender' },
    pay_in: { rail: 'ONCHAIN', address: /^0x[0-9a-f]{40}$/, memo: null, reference: null },
    target: { rail: 'ACH', routing_number: '026009593', account_number: '12345678901', account_type: 'SAVINGS', bank_name: 'Chase' },
  })
  const bad = await lx.call('POST', ramps, { body: { ...offRamp, target: { ...offRamp.target, routing_number: '12' } } })
  t.match(bad.body.error, { code: 'INVALID_FIELD', field: 'target.routing_number' })
})

t.test('prefunded ramp: the wallet is debited at once and the ramp is in progress', async (t) => {
  const lx = await startExchange(t)
  const res = await lx.call('POST', ramps, { body: prefundedOffRamp() })
  t.equal(res.status, 201)
  t.match(res.body, { funding: 'BALANCE', state: 'IN_PROGRESS', pay_in: null, source: { rail: 'BALANCE' }, target: { rail: 'IBAN', iban: 'DE89370400440532013000', bic: null } })
  t.match(await btcWallet(lx), { available_minor: 24_999_000_000, held_minor: 1_000_000 })

  const fromDesk = await lx.call('POST', ramps, { body: prefundedOffRamp({ source: { asset: { currency: 'BTC' }, rail: 'BALANCE', from_account: ACCOUNTS.acmeDesk } }) })
  t.match(fromDesk.body, { source: { from_account: ACCOUNTS.acmeDesk } })
  t.match(await btcWallet(lx, ACCOUNTS.acmeDesk), { held_minor: 1_000_000 })
  const foreign = await lx.call('POST', ramps, { body: prefundedOffRamp({ source: { asset: { currency: 'BTC' }, rail: 'BALANCE', from_account: ACCOUNTS.globexMain } }) })
  t.match(foreign.body.error, { code: 'FUNDING_ACCOUNT_NOT_ALLOWED', field: 'source.from_account' })
  const tooMuch = await lx.call('POST', ramps, { body: prefundedOffRamp({ amount: '251' }) })
  t.equal(tooMuch.body.error.code, 'INSUFFICIENT_FUNDS')
})

t.test('ramp lifecycle: funds received, delivered with a receipt; failed and refunded', async (t) => {
  const lx = await startExchange(t)
  const payIn = (await lx.call('POST', ramps, { body: onRamp() })).body.ramp_id
  lx.clock.now += 60_000
  t.match((await operate(lx, payIn, { state: 'IN_PROGRESS' })).body, { state: 'IN_PROGRESS', received: { amount: 10, tx_hash: null } })
  const done = await operate(lx, payIn, { state: 'DONE', tx_hash: '0xdelivered' })
  t.match(done.body, {
    state: 'DONE',
    // 10 EUR less 0.5% at 1.08 USDC/EUR, less the 1 USDC network fee
    settlement: {
      payout: { amount: 9.746, tx_hash: '0xdelivered' },
      fees: [
        { kind: 'TRADING', basis: 'FLAT', value: 0.05 },
        { kind: 'NETWORK', basis: 'FLAT', value: 1 },
      ],
    },
  })

  const prefunded = (await lx.call('POST', ramps, { body: prefundedOffRamp() })).body.ramp_id
  const delivered = await operate(lx, prefunded, { state: 'DONE', reference: 'SEPA-E2E-1' })
  t.match(delivered.body.settlement, { payout: { amount: 598.84, reference: 'SEPA-E2E-1' }, fees: [{ asset: { currency: 'BTC' }, value: 0.00005 }] })
  t.match(await btcWallet(lx), { available_minor: 24_999_000_000, held_minor: 0 }, 'the held BTC left')

  const refunded = (await lx.call('POST', ramps, { body: prefundedOffRamp() })).body.ramp_id
  t.equal((await operate(lx, refunded, { state: 'REFUNDED' })).status, 409)
  await operate(lx, refunded, { state: 'FAILED' })
  t.equal((await operate(lx, refunded, { state: 'REFUNDED' })).body.state, 'REFUNDED')
  t.match(await btcWallet(lx), { available_minor: 24_999_000_000, held_minor: 0 }, 'the refund is back in the wallet')
  t.equal((await operate(lx, 'no-such-ramp', { state: 'DONE' })).status, 404)
})

t.test('ramp refusals, checked source, target, route, amount', async (t) => {
  const lx = await startExchange(t)
  const refusal = async (body: object, account: string = ACCOUNTS.acmeMain) => {
    const res = await lx.call('POST', acct(account, '/ramps'), { body })
    return [res.status, res.body.error.code, res.body.error.field]
  }
  const bridge = (source: object, target: object) => ({ kind: 'BRIDGE', amount: '10', source: { asset: source, rail: 'ONCHAIN' }, target: { asset: target, rail: 'ONCHAIN', address: '0x1' } })
  const unknown = { token_id: '7c6b5a49-3827-4160-9f8e-7d6c5b4a3928' }
  t.same(await refusal(bridge(unknown, unknown)), [422, 'UNKNOWN_TOKEN', 'source.asset.token_id'])
  t.same(await refusal(bridge({ token_id: 'foreign-asset-code' }, { currency: 'ETH' })), [422, 'SOURCE_ASSET_NOT_SUPPORTED', 'source.asset'])
  t.same(await refusal(bridge({ currency: 'ETH' }, { token_id: 'foreign-asset-code' })), [422, 'TARGET_ASSET_NOT_SUPPORTED', 'target.asset'])
  t.same(await refusal(bridge({ currency: 'BTC' }, { currency: 'BTC' })), [422, 'ROUTE_NOT_SUPPORTED', undefined], 'BTC is taken and delivered, but not bridged to itself')
  t.same(await refusal(onRamp({ kind: 'SELL' })), [422, 'ROUTE_NOT_SUPPORTED', undefined], 'kind must match the route')
  t.same(await refusal(onRamp({ source: { asset: { currency: 'EUR' }, rail: 'PIX' } })), [422, 'ROUTE_NOT_SUPPORTED', undefined], 'rails the desk does not know')
  t.same(await refusal(onRamp({ amount: '0' })), [422, 'AMOUNT_BELOW_MINIMUM', 'amount'])
  t.same(await refusal(onRamp({ target: { asset: USDC, rail: 'ONCHAIN' } })), [400, 'MISSING_FIELD', 'target.address'])
  t.same(await refusal(prefundedOffRamp({ target: { asset: { currency: 'EUR' }, rail: 'IBAN', beneficiary: { name: 'x' } } })), [400, 'MISSING_FIELD', 'target.iban'])
  t.same(await refusal(onRamp(), ACCOUNTS.acmeDormant), [409, 'ACCOUNT_FROZEN', undefined])
  t.same(await refusal(onRamp(), ACCOUNTS.acmeDesk), [422, 'SOURCE_ASSET_NOT_SUPPORTED', 'source.asset'], 'routes are per account')
})

t.test('ramp listing and lookup', async (t) => {
  const lx = await startExchange(t)
  lx.clock.now += 1000
  const created = (await lx.call('POST', ramps, { body: onRamp() })).body
  const list = await lx.call('GET', ramps)
  t.equal(list.body.total, 3)
  t.same(list.body.data.map((r: { state: string }) => r.state), ['AWAITING_FUNDS', 'EXPIRED', 'DONE'])
  t.same(list.body.data[0], created)
  t.match(list.body.data[2], { received: { amount: 1000 }, settlement: { payout: { amount: 1073.6 } } })
  t.equal((await lx.call('GET', `${ramps}?sort=oldest&offset=2`)).body.data[0].ramp_id, created.ramp_id)
  t.equal((await lx.call('GET', acct(ACCOUNTS.acmeDesk, `/ramps/${created.ramp_id}`))).body.error.code, 'RAMP_NOT_FOUND')
})
