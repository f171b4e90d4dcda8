import t from 'tap'
import { TOKENS } from '../../../examples/legacy-exchange/state/catalog.js'
import { SEEDED_DEPOSIT_ADDRESSES } from '../../../examples/legacy-exchange/state/seed.js'
import { ACCOUNTS, acct, backoffice, startExchange } from './helpers.js'

t.test('deposits: newest first, at least two per active account, found by id', async (t) => {
  const lx = await startExchange(t)
  for (const account of [ACCOUNTS.acmeMain, ACCOUNTS.acmeDesk, ACCOUNTS.acmeTreasury]) {
    const res = await lx.call('GET', acct(account, '/deposits'))
    t.ok(res.body.total >= 2, `${account} has deposits`)
    const times = res.body.data.map((d: { created_ms: number }) => d.created_ms)
    t.same(times, [...times].sort((a, b) => b - a))
    for (const deposit of res.body.data) t.same((await lx.call('GET', acct(account, `/deposits/${deposit.deposit_id}`))).body, deposit)
  }
  const main = (await lx.call('GET', acct(ACCOUNTS.acmeMain, '/deposits'))).body.data
  t.match(main.find((d: { rail: string }) => d.rail === 'ONCHAIN'), {
    status: 'CREDITED',
    asset: { currency: 'BTC' },
    amount_minor: 125_000_000,
    decimals: 8,
    deposit_address_id: SEEDED_DEPOSIT_ADDRESSES.acmeMainBtc,
    to_address: /^bc1q/,
    tx_hash: /^[0-9a-f]{64}$/,
  })
  t.match(main.find((d: { rail: string }) => d.rail === 'IBAN'), { payer_name: 'Acme Trading Ltd', payer_iban: 'GB82WEST12345698765432', reference: 'ACME-TOPUP-0506' })
  t.match(main.find((d: { rail: string }) => d.rail === 'BOOK'), { from_account: ACCOUNTS.globexMain })
  t.equal((await lx.call('GET', acct(ACCOUNTS.acmeDesk, `/deposits/${main[0].deposit_id}`))).body.error.code, 'DEPOSIT_NOT_FOUND')
})

t.test('incoming deposits are booked by operations, then credited or returned', async (t) => {
  const lx = await startExchange(t)
  const book = (body: object) => lx.call('POST', backoffice('/deposits'), { body, operator: true })
  const booked = await book({
    account_id: ACCOUNTS.acmeMain,
    rail: 'ONCHAIN',
    asset: { currency: 'BTC' },
    amount: '0.75',
    deposit_address_id: SEEDED_DEPOSIT_ADDRESSES.acmeMainBtc,
    tx_hash: 'ff00',
    from_address: 'bc1qsender',
  })
  t.equal(booked.status, 201)
  t.match(booked.body, { status: 'PENDING', amount_minor: 75_000_000, to_address: /^bc1q/, from_address: 'bc1qsender', settled_ms: null })
  const before = (await lx.call('GET', acct(ACCOUNTS.acmeMain, '/wallets?coin=BTC'))).body.wallets[0].available_minor
  lx.clock.now += 600_000
  const credited = await lx.call('POST', backoffice(`/deposits/${booked.body.deposit_id}/status`), { body: { status: 'CREDITED' }, operator: true })
  t.match(credited.body, { status: 'CREDITED', settled_ms: lx.clock.now })
  t.equal((await lx.call('GET', acct(ACCOUNTS.acmeMain, '/wallets?coin=BTC'))).body.wallets[0].available_minor, before + 75_000_000)
  t.equal((await lx.call('POST', backoffice(`/deposits/${booked.body.deposit_id}/status`), { body: { status: 'RETURNED' }, operator: true })).status, 409)

  const returned = await book({ account_id: ACCOUNTS.acmeTreasury, rail: 'IBAN', asset: { currency: 'EUR' }, amount: '10', payer_name: 'Unknown', payer_iban: 'FR7630006000011234567890189' })
  t.match(returned.body, { payer_name: 'Unknown', deposit_address_id: null })
  lx.clock.now += 1000
  t.match((await lx.call('POST', backoffice(`/deposits/${returned.body.deposit_id}/status`), { body: { status: 'RETURNED' }, operator: true })).body, { status: 'RETURNED', settled_ms: lx.clock.now })
  t.match((await book({ account_id: ACCOUNTS.acmeTreasury, rail: 'IBAN', asset: { currency: 'EUR' }, amount: '10' })).body.error, { code: 'MISSING_FIELD', field: 'payer_name' })
  t.match((await book({ account_id: ACCOUNTS.acmeMain, rail: 'ONCHAIN', asset: { currency: 'BTC' }, amount: '1', tx_hash: 'ab' })).body.error, { code: 'MISSING_FIELD', field: 'deposit_address_id' })
  t.equal((await book({ account_id: ACCOUNTS.acmeMain, rail: 'ONCHAIN', asset: { currency: 'DOGE' }, amount: '1' })).body.error.code, 'ASSET_NOT_SUPPORTED')
  t.equal(
    (await book({ account_id: ACCOUNTS.acmeMain, rail: 'ONCHAIN', asset: { currency: 'ETH' }, amount: '1', tx_hash: 'ab', deposit_address_id: SEEDED_DEPOSIT_ADDRESSES.acmeMainBtc })).body.error.code,
    'ADDRESS_NOT_FOUND',
    'the address is for another asset',
  )
  t.equal((await book({ account_id: 'nobody', rail: 'IBAN', asset: { currency: 'EUR' }, amount: '1', payer_name: 'x', payer_iban: 'y' })).status, 404)
})

t.test('deposit addresses: self-service creation per the account deposit methods', async (t) => {
  const lx = await startExchange(t)
  const create = (body: object, account: string = ACCOUNTS.acmeMain) => lx.call('POST', acct(account, '/deposit-addresses'), { body })
  const btc = await create({ rail: 'ONCHAIN', asset: { currency: 'BTC', network: 'BITCOIN' } })
  t.equal(btc.status, 201)
  t.match(btc.body, { rail: 'ONCHAIN', asset: { type: 'COIN', currency: 'BTC' }, state: 'ACTIVE', address: /^bc1q[a-z0-9]{38}$/, memo: null, disabled_ms: null })
  const usdc = await create({ rail: 'ONCHAIN', asset: { token_id: TOKENS.usdcEthereum } })
  t.match(usdc.body, { asset: { type: 'TOKEN', token_id: TOKENS.usdcEthereum }, address: /^0x[0-9a-f]{40}$/ })
  const iban = await create({ rail: 'IBAN', asset: { currency: 'EUR' } })
  t.match(iban.body, { rail: 'IBAN', iban: /^GB\d{2}LGCY\d{14}$/, bic: 'LGCYGB2L', holder: { name: 'Acme Trading Ltd', city: 'London', country: 'GB' } })
  t.notOk('address' in iban.body)

  const refusal = async (body: object, account?: string) => {
    const res = await create(body, account)
    return [res.status, res.body.error.code, res.body.error.field]
  }
  t.same(await refusal({ rail: 'ONCHAIN', asset: { currency: 'XLM' } }), [422, 'ADDRESS_CREATION_NOT_ALLOWED', undefined], 'Stellar uses the assigned memo')
  t.same(await refusal({ rail: 'IBAN', asset: { currency: 'USD' } }), [422, 'METHOD_NOT_SUPPORTED', undefined])
  t.same(await refusal({ rail: 'ONCHAIN', asset: { currency: 'ETH', network: 'POLYGON' } }), [422, 'METHOD_NOT_SUPPORTED', undefined])
  t.same(await refusal({ rail: 'ONCHAIN', asset: { token_id: '9b1e2f3a-4c5d-4e6f-8a7b-9c0d1e2f3a4b' } }), [422, 'UNKNOWN_TOKEN', 'asset.token_id'])
  t.same(await refusal({ rail: 'SWIFT', asset: { currency: 'EUR' } }), [400, 'INVALID_FIELD', 'rail'])
  t.same(await refusal({ rail: 'IBAN', asset: { currency: 'EUR' } }, ACCOUNTS.acmeDormant), [409, 'ACCOUNT_FROZEN', undefined])
})

t.test('deposit addresses: listing, details, disabling once', async (t) => {
  const lx = await startExchange(t)
  const list = await lx.call('GET', acct(ACCOUNTS.acmeMain, '/deposit-addresses'))
  t.equal(list.body.total, 3)
  t.same(list.body.data.map((a: { state: string }) => a.state), ['ACTIVE', 'ACTIVE', 'DISABLED'])
  const ibans = await lx.call('GET', acct(ACCOUNTS.acmeMain, '/deposit-addresses?rail=IBAN'))
  t.same(ibans.body.data.map((a: { address_id: string }) => a.address_id), [SEEDED_DEPOSIT_ADDRESSES.acmeMainEurIban])

  const id = SEEDED_DEPOSIT_ADDRESSES.acmeMainBtc
  const details = await lx.call('GET', acct(ACCOUNTS.acmeMain, `/deposit-addresses/${id}`))
  t.equal(details.body.address_id, id)
  lx.clock.now += 1000
  const disabled = await lx.call('POST', acct(ACCOUNTS.acmeMain, `/deposit-addresses/${id}/disable`))
  t.match(disabled.body, { state: 'DISABLED', disabled_ms: lx.clock.now })
  t.same((await lx.call('GET', acct(ACCOUNTS.acmeMain, `/deposit-addresses/${id}`))).body, disabled.body)
  const again = await lx.call('POST', acct(ACCOUNTS.acmeMain, `/deposit-addresses/${id}/disable`))
  t.equal(again.status, 409)
  t.equal(again.body.error.code, 'ADDRESS_ALREADY_DISABLED')
  t.equal((await lx.call('GET', acct(ACCOUNTS.acmeDesk, `/deposit-addresses/${id}`))).body.error.code, 'ADDRESS_NOT_FOUND')
})
