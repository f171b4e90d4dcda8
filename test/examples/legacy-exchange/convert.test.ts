import t from 'tap'
import { TOKENS } from '../../../examples/legacy-exchange/state/catalog.js'
import { PAIRS } from '../../../examples/legacy-exchange/state/seed.js'
import { QUOTE_TTL_MS } from '../../../examples/legacy-exchange/routes/convert.js'
import { ACCOUNTS, acct, startExchange } from './helpers.js'

const BTC = { currency: 'BTC', network: 'BITCOIN' }
const USD = { currency: 'USD' }
const quotes = acct(ACCOUNTS.acmeMain, '/convert/quotes')

t.test('convert pairs', async (t) => {
  const lx = await startExchange(t)
  const res = await lx.call('GET', '/internal/v1/convert/pairs')
  t.equal(res.body.pairs.length, 7)
  t.same(res.body.pairs[0], { pair_id: PAIRS.btcUsd, sell: { type: 'COIN', currency: 'BTC', network: 'BITCOIN' }, buy: { type: 'FIAT', currency: 'USD' }, fee_bps: 20 })
})

t.test('quotes: either side fixed, the other priced net of the fee, firm for a minute', async (t) => {
  const lx = await startExchange(t)
  const selling = await lx.call('POST', quotes, { body: { sell: BTC, buy: USD, sell_amount: '1' } })
  t.equal(selling.status, 201)
  t.match(selling.body, {
    pair_id: PAIRS.btcUsd,
    state: 'OPEN',
    sell_amount: 1,
    buy_amount: 64870,
    fee_bps: 20,
    created_ms: lx.clock.now,
    expires_ms: lx.clock.now + QUOTE_TTL_MS,
    filled_ms: null,
  })
  const buying = await lx.call('POST', quotes, { body: { sell: BTC, buy: USD, buy_amount: '1' } })
  t.match(buying.body, { sell_amount: 0.00001542, buy_amount: 1 }, '1/64870 BTC, rounded up to the ledger scale')
  const eth = await lx.call('POST', quotes, { body: { sell: USD, buy: { currency: 'ETH' }, sell_amount: '5000' } })
  t.match(eth.body, { buy_amount: 1.55859375 })
  const token = await lx.call('POST', quotes, { body: { sell: USD, buy: { token_id: TOKENS.usdcEthereum }, sell_amount: '100.01' } })
  t.match(token.body, { buy: { type: 'TOKEN', token_id: TOKENS.usdcEthereum }, buy_amount: 99.959995 })
})

t.test('quote refusals', async (t) => {
  const lx = await startExchange(t)
  const refusal = async (body: object) => {
    const res = await lx.call('POST', quotes, { body })
    return [res.status, res.body.error.code, res.body.error.field]
  }
  t.same(await refusal({ sell: BTC, buy: USD, sell_amount: '1', buy_amount: '1' }), [400, 'INVALID_FIELD', 'sell_amount'])
  t.same(await refusal({ sell: BTC, buy: USD }), [400, 'INVALID_FIELD', 'sell_amount'])
  t.same(await refusal({ sell: { token_id: '5d3c1b2a-0f9e-4d8c-b7a6-5f4e3d2c1b0a' }, buy: USD, buy_amount: '1' }), [422, 'UNKNOWN_TOKEN', 'sell.token_id'])
  t.same(await refusal({ sell: BTC, buy: { token_id: '5d3c1b2a-0f9e-4d8c-b7a6-5f4e3d2c1b0a' }, buy_amount: '1' }), [422, 'UNKNOWN_TOKEN', 'buy.token_id'])
  t.same(await refusal({ sell: USD, buy: USD, buy_amount: '1' }), [422, 'PAIR_NOT_SUPPORTED', undefined])
  t.same(await refusal({ sell: USD, buy: BTC, sell_amount: '0.000001' }), [422, 'AMOUNT_PRECISION', 'sell_amount'])
  t.same(await refusal({ sell: USD, buy: BTC, sell_amount: '0.00' }), [422, 'AMOUNT_TOO_SMALL', 'sell_amount'])
})

t.test('accepting a quote fills it once and moves the balances', async (t) => {
  const lx = await startExchange(t)
  const quote = (await lx.call('POST', quotes, { body: { sell: BTC, buy: USD, sell_amount: '2' } })).body
  lx.clock.now += QUOTE_TTL_MS - 1
  const filled = await lx.call('POST', `${quotes}/${quote.quote_id}/accept`)
  t.equal(filled.status, 200)
  t.match(filled.body, { state: 'FILLED', filled_ms: lx.clock.now })
  const wallets = (await lx.call('GET', acct(ACCOUNTS.acmeMain, '/wallets'))).body.wallets
  const minor = (currency: string) => wallets.find((w: { asset: { currency: string } }) => w.asset.currency === currency).available_minor
  t.equal(minor('BTC'), 24_800_000_000)
  t.equal(minor('USD'), 250_000_000 + 12_974_000)
  const again = await lx.call('POST', `${quotes}/${quote.quote_id}/accept`)
  t.equal(again.status, 409)
  t.equal(again.body.error.code, 'QUOTE_NOT_OPEN')
})

t.test('quotes expire', async (t) => {
  const lx = await startExchange(t)
  const quote = (await lx.call('POST', quotes, { body: { sell: BTC, buy: USD, sell_amount: '1' } })).body
  lx.clock.now += QUOTE_TTL_MS
  t.equal((await lx.call('GET', `${quotes}/${quote.quote_id}`)).body.state, 'EXPIRED')
  const late = await lx.call('POST', `${quotes}/${quote.quote_id}/accept`)
  t.equal(late.status, 409)
  t.equal(late.body.error.code, 'QUOTE_EXPIRED')
})

t.test('accepting needs the funds', async (t) => {
  const lx = await startExchange(t)
  const quote = (await lx.call('POST', acct(ACCOUNTS.acmeDesk, '/convert/quotes'), { body: { sell: BTC, buy: USD, sell_amount: '26' } })).body
  const res = await lx.call('POST', acct(ACCOUNTS.acmeDesk, `/convert/quotes/${quote.quote_id}/accept`))
  t.equal(res.status, 422)
  t.equal(res.body.error.code, 'INSUFFICIENT_FUNDS')
  t.equal((await lx.call('GET', acct(ACCOUNTS.acmeDesk, `/convert/quotes/${quote.quote_id}`))).body.state, 'OPEN', 'the quote stays open')
})

t.test('quote listing and lookup', async (t) => {
  const lx = await startExchange(t)
  lx.clock.now += 1000
  const fresh = (await lx.call('POST', quotes, { body: { sell: USD, buy: BTC, sell_amount: '1000' } })).body
  const list = await lx.call('GET', quotes)
  t.equal(list.body.total, 3)
  t.same(list.body.data.map((q: { state: string }) => q.state), ['OPEN', 'EXPIRED', 'FILLED'])
  t.equal(list.body.data[0].quote_id, fresh.quote_id)
  t.equal((await lx.call('GET', `${quotes}?sort=oldest&limit=1`)).body.data[0].state, 'FILLED')
  t.equal((await lx.call('GET', acct(ACCOUNTS.acmeDesk, `/convert/quotes/${fresh.quote_id}`))).body.error.code, 'QUOTE_NOT_FOUND')
  t.equal((await lx.call('POST', acct(ACCOUNTS.acmeDesk, `/convert/quotes/${fresh.quote_id}/accept`))).status, 404)
})
