import t from 'tap'
import { TOKENS } from '../../../examples/legacy-exchange/state/catalog.js'
import { PAYOUT_METHODS } from '../../../examples/legacy-exchange/state/seed.js'
import { ACCOUNTS, USERS, acct, backoffice, startExchange, type Exchange } from './helpers.js'

const BTC = { currency: 'BTC', network: 'BITCOIN' }
const USD = { currency: 'USD' }
const USDC = { token_id: TOKENS.usdcEthereum }

const crypto = (amount: string, extra: object = {}) => ({ amount, debit: BTC, send: BTC, address: 'bc1qexternaldestination', ...extra })

async function wallet(lx: Exchange, account: string, query: string, user: string = USERS.acme) {
  const res = await lx.call('GET', acct(account, `/wallets?${query}`, user), { user })
  return res.body.wallets[0] ?? { available_minor: 0, held_minor: 0 }
}

t.test('crypto payout: fee out of the amount, funds held while pending review', async (t) => {
  const lx = await startExchange(t)
  const res = await lx.call('POST', acct(ACCOUNTS.acmeMain, '/payouts/crypto'), {
    body: crypto('0.5', { memo: 'for-invoice-9', client_ref: 'ord-1', travel_rule: { originator: { name: 'Acme' } } }),
  })
  t.equal(res.status, 201)
  t.match(res.body, {
    rail: 'ONCHAIN',
    method_id: PAYOUT_METHODS.btcChain,
    status: 10,
    debit: { type: 'COIN', currency: 'BTC', network: 'BITCOIN' },
    amount_minor: 50_000_000,
    decimals: 8,
    send_amount_minor: 49_990_000,
    send_decimals: 8,
    fee_minor: 10_000,
    address: 'bc1qexternaldestination',
    memo: 'for-invoice-9',
    tx_hash: null,
    client_ref: 'ord-1',
    completed_ms: null,
    created_ms: lx.clock.now,
    history: [{ status: 10, at_ms: lx.clock.now }],
  })
  t.notOk('travel_rule' in res.body, 'travel rule data is passed on, not echoed')
  t.match(await wallet(lx, ACCOUNTS.acmeMain, 'coin=BTC'), { available_minor: 24_950_000_000, held_minor: 50_000_000 })
  t.same((await lx.call('GET', acct(ACCOUNTS.acmeMain, `/payouts/${res.body.payout_id}`))).body, res.body)
})

t.test('payout lifecycle: review, processing, completed or rejected/failed, driven by operations', async (t) => {
  const lx = await startExchange(t)
  const create = async () => (await lx.call('POST', acct(ACCOUNTS.acmeMain, '/payouts/crypto'), { body: crypto('1') })).body.payout_id as string
  const advance = (id: string, body: object) => lx.call('POST', backoffice(`/payouts/${id}/status`), { body, operator: true })

  const done = await create()
  lx.clock.now += 60_000
  t.match((await advance(done, { status: 20 })).body, { status: 20, completed_ms: null })
  lx.clock.now += 60_000
  const completed = await advance(done, { status: 30, tx_hash: '0xabc' })
  t.match(completed.body, { status: 30, tx_hash: '0xabc', completed_ms: lx.clock.now, updated_ms: lx.clock.now })
  t.same(completed.body.history.map((h: { status: number }) => h.status), [10, 20, 30])
  t.match(await wallet(lx, ACCOUNTS.acmeMain, 'coin=BTC'), { available_minor: 24_900_000_000, held_minor: 0 }, 'the held amount left')

  const rejected = await create()
  t.match((await advance(rejected, { status: 40, note: 'sanctions screening hit' })).body, { status: 40, history: [{}, { note: 'sanctions screening hit' }] })
  const failed = await create()
  await advance(failed, { status: 20 })
  t.equal((await advance(failed, { status: 50 })).body.status, 50)
  t.match(await wallet(lx, ACCOUNTS.acmeMain, 'coin=BTC'), { available_minor: 24_900_000_000, held_minor: 0 }, 'rejected and failed payouts return the money')

  const invalid = await advance(done, { status: 20 })
  t.equal(invalid.status, 409)
  t.equal(invalid.body.error.code, 'INVALID_TRANSITION')
  t.equal((await advance('d9b0f2ec-55a1-4a79-8305-224582c673f1', { status: 20 })).status, 404)
})

t.test('bank payout', async (t) => {
  const lx = await startExchange(t)
  const beneficiary = { name: 'John Doe', street: '1 Main St', city: 'Berlin', postcode: '10115', region: 'BE', country: 'DE' }
  const res = await lx.call('POST', acct(ACCOUNTS.acmeMain, '/payouts/bank'), {
    body: { amount: '100', debit: { currency: 'EUR' }, send: { currency: 'EUR' }, iban: 'DE89370400440532013000', beneficiary, reference: 'INV-7' },
  })
  t.equal(res.status, 201)
  t.match(res.body, { rail: 'IBAN', status: 10, amount_minor: 10_000, send_amount_minor: 9_950, iban: 'DE89370400440532013000', beneficiary, reference: 'INV-7' })
  t.notOk('address' in res.body)
})

t.test('book transfer to another customer: booked at once, seen by the receiver as a deposit', async (t) => {
  const lx = await startExchange(t)
  const res = await lx.call('POST', acct(ACCOUNTS.acmeMain, '/payouts/book'), {
    body: { amount: '250', debit: USDC, send: USDC, to_account: ACCOUNTS.globexMain, reference: 'settle-42' },
  })
  t.equal(res.status, 201)
  t.match(res.body, { rail: 'BOOK', status: 30, to_account: ACCOUNTS.globexMain, fee_minor: 0, completed_ms: lx.clock.now })
  t.match(await wallet(lx, ACCOUNTS.globexMain, `token_id=${TOKENS.usdcEthereum}`, USERS.globex), { available_minor: 10_250_000_000 })
  const deposits = await lx.call('GET', acct(ACCOUNTS.globexMain, '/deposits?limit=1', USERS.globex), { user: USERS.globex })
  t.match(deposits.body.data[0], { rail: 'BOOK', status: 'CREDITED', from_account: ACCOUNTS.acmeMain, amount_minor: 250_000_000, reference: 'settle-42' })

  const own = await lx.call('POST', acct(ACCOUNTS.acmeMain, '/payouts/book'), { body: { amount: '1', debit: USD, send: USD, to_account: ACCOUNTS.acmeDesk } })
  t.equal(own.status, 422)
  t.match(own.body.error, { code: 'DESTINATION_NOT_ALLOWED', field: 'to_account' })
  const nowhere = await lx.call('POST', acct(ACCOUNTS.acmeMain, '/payouts/book'), { body: { amount: '1', debit: USD, send: USD, to_account: 'nobody' } })
  t.equal(nowhere.body.error.code, 'DESTINATION_NOT_ALLOWED')
})

t.test('internal transfers: any own account, or only the parent', async (t) => {
  const lx = await startExchange(t)
  const internal = (from: string, to: string, debit: object = USD) =>
    lx.call('POST', acct(from, '/payouts/internal'), { body: { amount: '10', debit, send: debit, to_account: to } })
  const ok = await internal(ACCOUNTS.acmeMain, ACCOUNTS.acmeDesk)
  t.match(ok.body, { status: 30, rail: 'INTERNAL', to_account: ACCOUNTS.acmeDesk })
  t.match(await wallet(lx, ACCOUNTS.acmeDesk, 'fiat=USD'), { available_minor: 15_001_000 })
  t.equal((await internal(ACCOUNTS.acmeTreasury, ACCOUNTS.acmeMain, USDC)).status, 201, 'treasury sweeps to its parent')
  const sideways = await internal(ACCOUNTS.acmeTreasury, ACCOUNTS.acmeDesk)
  t.equal(sideways.status, 422)
  t.equal(sideways.body.error.code, 'DESTINATION_NOT_ALLOWED')
  t.equal((await internal(ACCOUNTS.acmeMain, ACCOUNTS.acmeMain)).body.error.code, 'DESTINATION_NOT_ALLOWED', 'not to itself')
  t.equal((await internal(ACCOUNTS.acmeMain, ACCOUNTS.acmeDormant)).body.error.code, 'DESTINATION_NOT_ALLOWED', 'not to a frozen account')
  t.equal((await internal(ACCOUNTS.acmeMain, ACCOUNTS.globexMain)).body.error.code, 'DESTINATION_NOT_ALLOWED', 'not to another customer')
})

t.test('payout refusals', async (t) => {
  const lx = await startExchange(t)
  const post = (body: object, account: string = ACCOUNTS.acmeMain) => lx.call('POST', acct(account, '/payouts/crypto'), { body })
  const code = async (body: object, account?: string) => {
    const res = await post(body, account)
    return [res.status, res.body.error?.code, res.body.error?.field]
  }
  t.same(await code(crypto('0.0001')), [422, 'AMOUNT_BELOW_MINIMUM', 'amount'])
  t.same(await code(crypto('0.000000001')), [422, 'AMOUNT_PRECISION', 'amount'])
  t.same(await code(crypto('1000')), [422, 'INSUFFICIENT_FUNDS', undefined])
  t.same(await code({ ...crypto('1'), debit: { token_id: '0b4b1c6e-5f0a-4c1e-9d2b-7e8f9a0b1c2d' } }), [422, 'UNKNOWN_TOKEN', 'debit.token_id'])
  t.same(await code({ ...crypto('1'), send: { currency: 'XTZ', network: 'Tezos' } }), [422, 'METHOD_NOT_SUPPORTED', undefined], 'an asset the exchange does not list')
  t.same(await code({ ...crypto('1'), send: { currency: 'BTC', network: 'ETHEREUM' } }), [422, 'METHOD_NOT_SUPPORTED', undefined], 'a coin on the wrong network')
  t.same(await code({ ...crypto('1'), send: { ...BTC, testnet: true } }), [422, 'METHOD_NOT_SUPPORTED', undefined], 'test assets are not offered')
  t.same(await code({ ...crypto('1'), debit: USD }), [422, 'METHOD_NOT_SUPPORTED', undefined], 'USD is not paid out as BTC')
  t.same(await code({ ...crypto('1'), debit: { currency: 'BTC', token_id: TOKENS.usdcEthereum } }), [400, 'INVALID_FIELD', 'debit'])
  t.same(await code(crypto('1'), ACCOUNTS.acmeDormant), [409, 'ACCOUNT_FROZEN', undefined])
  const bank = await lx.call('POST', acct(ACCOUNTS.acmeMain, '/payouts/bank'), {
    body: { amount: '100', debit: { currency: 'EUR' }, send: { currency: 'EUR' }, iban: 'not an iban', beneficiary: { name: 'x' } },
  })
  t.match(bank.body.error, { code: 'INVALID_FIELD', field: 'iban' })
})

t.test('payout listing: offset paging, newest first by default, filter by rail', async (t) => {
  const lx = await startExchange(t)
  const created: string[] = []
  for (let i = 0; i < 3; i++) {
    lx.clock.now += 1000
    created.push((await lx.call('POST', acct(ACCOUNTS.acmeMain, '/payouts/crypto'), { body: crypto('1') })).body.payout_id)
  }
  const all = await lx.call('GET', acct(ACCOUNTS.acmeMain, '/payouts'))
  t.equal(all.body.total, 7, '4 seeded + 3 new')
  t.same(all.body.data.slice(0, 3).map((p: { payout_id: string }) => p.payout_id), [...created].reverse())
  const page = await lx.call('GET', acct(ACCOUNTS.acmeMain, '/payouts?offset=1&limit=2&sort=oldest'))
  t.match(page.body, { total: 7, offset: 1, limit: 2 })
  t.same(page.body.data.map((p: { rail: string }) => p.rail), ['IBAN', 'INTERNAL'])
  const onchain = await lx.call('GET', acct(ACCOUNTS.acmeMain, '/payouts?rail=ONCHAIN&limit=1000'))
  t.equal(onchain.body.total, 5)
  t.ok(onchain.body.data.every((p: { rail: string }) => p.rail === 'ONCHAIN'))
  t.equal((await lx.call('GET', acct(ACCOUNTS.acmeDesk, `/payouts/${created[0]}`))).status, 404, 'a payout of another account')
  t.equal((await lx.call('GET', acct(ACCOUNTS.acmeMain, '/payouts/nope'))).body.error.code, 'PAYOUT_NOT_FOUND')
})
