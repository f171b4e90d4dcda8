import t from 'tap'
import { TOKENS } from '../../../examples/legacy-exchange/state/catalog.js'
import { BOOKS, PAIRS, RAMP_ROUTES } from '../../../examples/legacy-exchange/state/seed.js'
import { ACCOUNTS, USERS, acct, startExchange } from './helpers.js'

t.test('accounts: the caller sees their own main and sub-accounts, in creation order', async (t) => {
  const lx = await startExchange(t)
  const res = await lx.call('GET', `/internal/v1/users/${USERS.acme}/accounts`)
  t.equal(res.status, 200)
  t.same(
    res.body.accounts.map((a: { account_id: string; kind: string; status: string; parent_account_id: string | null }) => [a.account_id, a.kind, a.status, a.parent_account_id]),
    [
      [ACCOUNTS.acmeMain, 'MAIN', 'OPEN', null],
      [ACCOUNTS.acmeDesk, 'SUB', 'OPEN', ACCOUNTS.acmeMain],
      [ACCOUNTS.acmeTreasury, 'SUB', 'OPEN', ACCOUNTS.acmeMain],
      [ACCOUNTS.acmeDormant, 'MAIN', 'FROZEN', null],
    ],
  )
  t.notOk('wallets' in res.body.accounts[0], 'wallets only on request')
  t.match(res.body.accounts[0], { label: 'Acme Main', notes: 'Prime brokerage main account', created_ms: Date.parse('2023-11-02T09:00:00Z') })

  const withWallets = await lx.call('GET', `/internal/v1/users/${USERS.acme}/accounts?include=wallets`)
  t.equal(withWallets.body.accounts[3].wallets.length, 1)
  const globex = await lx.call('GET', `/internal/v1/users/${USERS.globex}/accounts`, { user: USERS.globex })
  t.same(globex.body.accounts.map((a: { account_id: string }) => a.account_id), [ACCOUNTS.globexMain])
})

t.test('account details', async (t) => {
  const lx = await startExchange(t)
  const res = await lx.call('GET', acct(ACCOUNTS.acmeTreasury))
  t.match(res.body, { account_id: ACCOUNTS.acmeTreasury, kind: 'SUB', parent_account_id: ACCOUNTS.acmeMain, label: 'Acme Treasury' })
  t.notOk('wallets' in res.body)
  t.equal((await lx.call('GET', acct('4a594390-a439-4f8b-99c1-be1e498e0e9a'))).status, 404)
})

t.test('wallets: minor units with their scale, credit lines on the collateral-linked main account', async (t) => {
  const lx = await startExchange(t)
  const res = await lx.call('GET', acct(ACCOUNTS.acmeMain, '/wallets'))
  t.equal(res.status, 200)
  const byCurrency = new Map(res.body.wallets.map((w: { asset: { currency: string; network?: string } }) => [`${w.asset.currency}/${w.asset.network ?? ''}`, w]))
  t.match(byCurrency.get('USD/'), { asset: { type: 'FIAT', currency: 'USD' }, available_minor: 250_000_000, held_minor: 0, decimals: 2 })
  t.notOk('credit_minor' in (byCurrency.get('USD/') as object), 'no credit line in assets outside the collateral policy')
  t.match(byCurrency.get('BTC/BITCOIN'), { asset: { type: 'COIN', network: 'BITCOIN' }, available_minor: 25_000_000_000, credit_minor: 3_200_000_000, decimals: 8 })
  t.match(byCurrency.get('USDC/ETHEREUM'), {
    asset: { type: 'TOKEN', token_id: TOKENS.usdcEthereum },
    held_minor: 25_000_000_000,
    credit_minor: 237_500_000_000,
    decimals: 6,
  })
  const desk = await lx.call('GET', acct(ACCOUNTS.acmeDesk, '/wallets'))
  t.notOk(desk.body.wallets.some((w: object) => 'credit_minor' in w), 'sub-accounts have no collateral credit')
})

t.test('wallet filters: one of fiat, coin, token_id', async (t) => {
  const lx = await startExchange(t)
  const get = (query: string) => lx.call('GET', acct(ACCOUNTS.acmeMain, `/wallets?${query}`))
  t.same((await get('fiat=EUR')).body.wallets.map((w: { asset: { currency: string } }) => w.asset.currency), ['EUR'])
  t.same((await get('coin=BTC')).body.wallets.map((w: { asset: { currency: string } }) => w.asset.currency), ['BTC'])
  t.same((await get(`token_id=${TOKENS.usdtEthereum}`)).body.wallets.map((w: { asset: { token_id: string } }) => w.asset.token_id), [TOKENS.usdtEthereum])
  t.same((await get('fiat=JPY')).body.wallets, [], 'a currency the account does not hold')
  t.same((await get('coin=USD')).body.wallets, [], 'a fiat code is not a coin')
  t.same((await get('token_id=not-one-of-ours')).body.wallets, [])
  const unknown = await get('token_id=3b3e2aa8-dfed-4b91-b088-f6c62acdcebc')
  t.equal(unknown.status, 422)
  t.match(unknown.body.error, { code: 'UNKNOWN_TOKEN', field: 'token_id' })
  const both = await get('fiat=USD&coin=ETH')
  t.equal(both.status, 400)
  t.match(both.body.error, { code: 'INVALID_QUERY', field: 'coin' })
})

t.test('token catalogue', async (t) => {
  const lx = await startExchange(t)
  const list = await lx.call('GET', '/internal/v1/tokens')
  t.equal(list.body.tokens.length, 6)
  t.match(list.body.tokens[0], {
    token_id: TOKENS.usdcEthereum,
    ticker: 'USDC',
    standard: 'ERC20',
    network: 'ETHEREUM',
    contract: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48',
    issuer: null,
    decimals: 6,
  })
  const stellar = await lx.call('GET', `/internal/v1/tokens/${TOKENS.usdcStellar}`)
  t.match(stellar.body, { standard: 'STELLAR_ASSET', contract: null, issuer: 'GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN', asset_code: 'USDC', decimals: 7 })
  const missing = await lx.call('GET', '/internal/v1/tokens/BTC')
  t.equal(missing.status, 404)
  t.equal(missing.body.error.code, 'TOKEN_NOT_FOUND')
})

t.test('prices by pair reference, per desk', async (t) => {
  const lx = await startExchange(t)
  const price = (query: string, account: string = ACCOUNTS.acmeMain) => lx.call('GET', acct(account, `/prices?${query}`))
  t.same((await price(`conversion_pair=${PAIRS.btcUsd}&ramp_pair=&book_pair=`)).body, {
    pair_ref: PAIRS.btcUsd,
    desk: 'CONVERT',
    price: 65000,
    base: { type: 'COIN', currency: 'BTC', network: 'BITCOIN' },
    quote: { type: 'FIAT', currency: 'USD' },
    indicative: false,
    as_of_ms: lx.clock.now,
  })
  t.match((await price(`ramp_pair=${RAMP_ROUTES.eurIbanToUsdc}`)).body, { desk: 'RAMP', price: 1.08, base: { currency: 'EUR' }, quote: { currency: 'USDC' } })
  t.match((await price(`book_pair=${BOOKS.ethUsd}`)).body, { desk: 'BOOK', price: 3200 })
  t.match((await price(`ramp_pair=${RAMP_ROUTES.eurIbanToUsdc}`, ACCOUNTS.acmeDesk)).body, { indicative: true, base: null }, 'a route this account does not have')
  t.match((await price('conversion_pair=whatever')).body, { desk: 'CONVERT', price: 65000, base: null, quote: null, indicative: true })
  const none = await price('conversion_pair=&ramp_pair=&book_pair=')
  t.equal(none.status, 400)
  t.match(none.body.error, { code: 'MISSING_FIELD' })
  const two = await price(`conversion_pair=a&book_pair=b`)
  t.match(two.body.error, { code: 'INVALID_QUERY', field: 'book_pair' })
  t.equal((await price('conversion_pair=a', 'no-such-account')).status, 404)
})

t.test('payout and deposit methods per account; a frozen account has none', async (t) => {
  const lx = await startExchange(t)
  const payouts = await lx.call('GET', acct(ACCOUNTS.acmeMain, '/payout-methods'))
  t.equal(payouts.body.methods.length, 10)
  t.match(payouts.body.methods[0], {
    rail: 'ONCHAIN',
    debit: { currency: 'BTC', network: 'BITCOIN' },
    send: { currency: 'BTC' },
    min_amount_minor: 20_000,
    fee_minor: 10_000,
    decimals: 8,
  })
  const treasury = await lx.call('GET', acct(ACCOUNTS.acmeTreasury, '/payout-methods'))
  t.same(
    treasury.body.methods.map((m: { rail: string; scope?: string }) => [m.rail, m.scope ?? null]),
    [
      ['IBAN', null],
      ['INTERNAL', 'PARENT_ONLY'],
      ['INTERNAL', 'PARENT_ONLY'],
    ],
  )
  const deposits = await lx.call('GET', acct(ACCOUNTS.acmeMain, '/deposit-methods'))
  t.match(
    deposits.body.methods.find((m: { asset: { currency: string } }) => m.asset.currency === 'XLM'),
    { rail: 'ONCHAIN', self_service_addresses: false, credit: { currency: 'XLM', network: 'STELLAR' } },
  )
  t.match(deposits.body.methods.find((m: { rail: string }) => m.rail === 'INTERNAL'), { scope: 'ANY_OWN' })
  t.same((await lx.call('GET', acct(ACCOUNTS.acmeDormant, '/payout-methods'))).body.methods, [])
  t.same((await lx.call('GET', acct(ACCOUNTS.acmeDormant, '/deposit-methods'))).body.methods, [])
})
