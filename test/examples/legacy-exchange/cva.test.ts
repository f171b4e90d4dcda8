import t from 'tap'
import { TOKENS } from '../../../examples/legacy-exchange/state/catalog.js'
import { COLLATERAL } from '../../../examples/legacy-exchange/state/seed.js'
import { ACCOUNTS, USERS, acct, backoffice, startExchange, type Exchange } from './helpers.js'

const CID = COLLATERAL.acmeCva
const cva = (suffix: string, account: string = ACCOUNTS.acmeMain) => acct(account, `/cva/${CID}${suffix}`)
const BTC = { currency: 'BTC', network: 'BITCOIN', testnet: false }
const newCollateralId = '0d6a5c3e-1f2b-4c7d-8e9f-a0b1c2d3e4f5.1e2d3c4b-5a69-4788-99aa-bbccddeeff00.2f3e4d5c-6b7a-4899-8aab-bccddeeff001'

async function approvedIntent(lx: Exchange, kind: 'deposit' | 'withdrawal', amount: string, fbIntent: string) {
  const extra = kind === 'withdrawal' ? { address: 'bc1qcustomer', memo: 'm-1' } : {}
  return (await lx.call('POST', cva(`/${kind}-intents`), { body: { asset: BTC, amount, fb_intent_id: fbIntent, ...extra } })).body
}

t.test('links: the active link and the failed attempt before it', async (t) => {
  const lx = await startExchange(t)
  const res = await lx.call('GET', acct(ACCOUNTS.acmeMain, '/cva/links'))
  t.same(res.body.links.map((l: { state: string }) => l.state), ['FAILED', 'ACTIVE'])
  t.match(res.body.links[0], { environment: 'SANDBOX', reason: /is not registered/ })
  t.match(res.body.links[1], {
    link_id: COLLATERAL.activeLink,
    collateral_id: CID,
    signer_ids: COLLATERAL.signers.slice(0, 2),
    environment: 'PROD',
    reason: null,
    eligible_assets: [{ currency: 'BTC' }, { currency: 'ETH' }, { token_id: TOKENS.usdcEthereum }],
  })
  t.same((await lx.call('GET', acct(ACCOUNTS.acmeDesk, '/cva/links'))).body.links, [])
})

t.test('linking: invalid requests fail and are kept; a linked account returns its existing link', async (t) => {
  const lx = await startExchange(t)
  const link = (body: object, account: string = ACCOUNTS.acmeMain) => lx.call('POST', acct(account, '/cva/links'), { body })
  const malformed = await link({ collateral_id: 'unknownId', signer_ids: ['unknownId'], environment: 'PROD' })
  t.equal(malformed.status, 201)
  t.match(malformed.body, { state: 'FAILED', collateral_id: 'unknownId', reason: /not <cvaTenantId>/ })
  const stranger = await link({ collateral_id: newCollateralId, signer_ids: [COLLATERAL.signers[0], 'signer-x'], environment: 'PROD' })
  t.match(stranger.body, { state: 'FAILED', reason: 'collateral signer signer-x is not registered with the exchange' })
  t.match((await link({ collateral_id: newCollateralId, signer_ids: [], environment: 'PROD' })).body, { state: 'FAILED' })
  const relink = await link({ collateral_id: newCollateralId, signer_ids: [COLLATERAL.signers[2]], environment: 'PROD' })
  t.equal(relink.status, 200)
  t.match(relink.body, { link_id: COLLATERAL.activeLink, collateral_id: CID, state: 'ACTIVE' })
  t.equal((await lx.call('GET', acct(ACCOUNTS.acmeMain, '/cva/links'))).body.links.length, 5)

  const sub = await link({ collateral_id: newCollateralId, signer_ids: [COLLATERAL.signers[2]], environment: 'PROD' }, ACCOUNTS.acmeDesk)
  t.equal(sub.status, 422)
  t.equal(sub.body.error.code, 'NOT_MAIN_ACCOUNT')
})

t.test('a first link activates at once', async (t) => {
  const lx = await startExchange(t)
  const globex = USERS.globex
  const res = await lx.call('POST', acct(ACCOUNTS.globexMain, '/cva/links', globex), {
    user: globex,
    body: { collateral_id: newCollateralId, signer_ids: [COLLATERAL.signers[2]], environment: 'SANDBOX' },
  })
  t.equal(res.status, 201)
  t.match(res.body, { state: 'ACTIVE', collateral_id: newCollateralId, environment: 'SANDBOX', reason: null })
  const plan = await lx.call('GET', acct(ACCOUNTS.globexMain, `/cva/${newCollateralId}/settlement-plans/current`, globex), { user: globex })
  t.match(plan.body, { revision: 1, state: 'OPEN', from_cva: [], to_cva: [] })
})

t.test('collateral addresses: registered once, filtered, found', async (t) => {
  const lx = await startExchange(t)
  const body = { asset: { currency: 'ALGO', network: 'ALGORAND', testnet: false }, address: 'J4NOFD4VBNJ35F2MEII4HRAADNPJ7QFYAKESYKSEWWGJUXG64IATUVZRMQ', memo: '223797B6A324B30583C4', recovery_ref: '1' }
  const created = await lx.call('POST', cva('/addresses'), { body })
  t.equal(created.status, 201)
  t.match(created.body, { asset: { type: 'COIN', currency: 'ALGO', network: 'ALGORAND', testnet: false }, address: body.address, memo: body.memo, recovery_ref: '1' })
  const again = await lx.call('POST', cva('/addresses'), { body })
  t.equal(again.status, 200)
  t.equal(again.body.address_id, created.body.address_id)
  const noTag = await lx.call('POST', cva('/addresses'), { body: { asset: { currency: 'BTC', network: 'BITCOIN' }, address: 'bc1qnotag', recovery_ref: '1' } })
  t.match(noTag.body, { memo: null, asset: { currency: 'BTC' } })
  t.notOk('testnet' in noTag.body.asset, 'the test flag is echoed only when given')

  t.same((await lx.call('GET', cva('/addresses?coin=BTC'))).body.addresses.map((a: { address: string }) => a.address), ['bc1q9h7garjk7qh0lsq6n8zd0pt3xh8f0gw6ctzmhv', 'bc1qnotag'])
  t.same((await lx.call('GET', cva(`/addresses?token_id=${TOKENS.usdcEthereum}`))).body.addresses.map((a: { address_id: string }) => a.address_id), [COLLATERAL.usdcAddress])
  t.equal((await lx.call('GET', cva('/addresses'))).body.addresses.length, 4)
  t.same((await lx.call('GET', cva(`/addresses/${created.body.address_id}`))).body, created.body)
  t.equal((await lx.call('GET', cva('/addresses/nope'))).body.error.code, 'CVA_ADDRESS_NOT_FOUND')
  const fiat = await lx.call('POST', cva('/addresses'), { body: { ...body, asset: { currency: 'USD' } } })
  t.match(fiat.body.error, { code: 'ASSET_NOT_SUPPORTED', field: 'asset' })
})

t.test('collateral calls need the account linked to that collateral account', async (t) => {
  const lx = await startExchange(t)
  for (const [path, account] of [
    [`/cva/${newCollateralId}/addresses`, ACCOUNTS.acmeMain],
    [`/cva/${CID}/addresses`, ACCOUNTS.acmeDesk],
  ] as const) {
    const res = await lx.call('GET', acct(account, path))
    t.equal(res.status, 404)
    t.equal(res.body.error.code, 'COLLATERAL_NOT_FOUND')
  }
})

t.test('adding collateral: intent, registration, credit when the chain confirms', async (t) => {
  const lx = await startExchange(t)
  const intent = await approvedIntent(lx, 'deposit', '100', 'fb-intent-1')
  t.match(intent, { direction: 'DEPOSIT', decision: 'APPROVE', reason: null, asset: BTC, amount_minor: 10_000_000_000, decimals: 8, fb_intent_id: 'fb-intent-1' })
  const register = (body: object) => lx.call('POST', cva('/deposits'), { body })
  const fbTx = `2.${intent.intent_id}.${CID}`
  const tx = await register({ fb_tx_id: fbTx, fb_intent_id: 'fb-intent-1', intent_id: intent.intent_id })
  t.equal(tx.status, 201)
  t.match(tx.body, { direction: 'DEPOSIT', status: 'PENDING', fb_tx_id: fbTx, intent_id: intent.intent_id, asset: BTC, amount_minor: 10_000_000_000, settlement: null })
  t.equal((await register({ fb_tx_id: fbTx, fb_intent_id: 'fb-intent-1', intent_id: intent.intent_id })).status, 200, 'a repeated registration returns the first')
  t.same((await lx.call('GET', cva(`/deposits/${fbTx}`))).body, tx.body)

  const credited = await lx.call('POST', backoffice(`/cva-deposits/${tx.body.tx_id}/status`), { body: { status: 'CREDITED' }, operator: true })
  t.equal(credited.body.status, 'CREDITED')
  const wallet = (await lx.call('GET', acct(ACCOUNTS.acmeMain, '/wallets?coin=BTC'))).body.wallets[0]
  t.equal(wallet.credit_minor, 11_200_000_000, '80% of 140 BTC of collateral')

  t.match((await register({ fb_tx_id: 'x', fb_intent_id: 'other', intent_id: intent.intent_id })).body.error, { code: 'INTENT_MISMATCH', field: 'fb_intent_id' })
  t.match((await register({ fb_tx_id: 'x', fb_intent_id: 'other', intent_id: 'nope' })).body.error, { code: 'INTENT_NOT_FOUND', field: 'intent_id' })
  t.equal((await lx.call('GET', cva('/deposits/unknown-tx'))).body.error.code, 'CVA_TX_NOT_FOUND')
  const list = await lx.call('GET', cva('/deposits'))
  t.match(list.body, { total: 1, data: [{ fb_tx_id: fbTx }] })
})

t.test('declined intents: assets outside the policy, test assets on a production link; their transactions are rejected', async (t) => {
  const lx = await startExchange(t)
  const intent = (asset: object) => lx.call('POST', cva('/deposit-intents'), { body: { asset, amount: '1', fb_intent_id: 'fb-x' } })
  const algo = await intent({ currency: 'ALGO', network: 'ALGORAND' })
  t.match(algo.body, { decision: 'DECLINE', reason: 'ALGO is not eligible as collateral' })
  t.match((await intent({ ...BTC, testnet: true })).body, { decision: 'DECLINE', reason: 'test assets are not accepted on a production link', asset: { testnet: true } })
  t.equal((await intent({ currency: 'DOGE' })).body.error.code, 'ASSET_NOT_SUPPORTED')
  t.equal((await lx.call('POST', cva('/deposit-intents'), { body: { asset: BTC, amount: '0', fb_intent_id: 'fb-x' } })).body.error.code, 'AMOUNT_TOO_SMALL')
  const tx = await lx.call('POST', cva('/deposits'), { body: { fb_tx_id: 'fb-tx-algo', fb_intent_id: 'fb-x', intent_id: algo.body.intent_id } })
  t.match(tx.body, { status: 'REJECTED', reason: 'ALGO is not eligible as collateral' })
  t.equal((await lx.call('POST', backoffice(`/cva-deposits/${tx.body.tx_id}/status`), { body: { status: 'CREDITED' }, operator: true })).status, 409)
})

t.test('removing collateral: approved within the holding, the collateral leaves when registered', async (t) => {
  const lx = await startExchange(t)
  const intent = await approvedIntent(lx, 'withdrawal', '5', 'fb-w-1')
  t.match(intent, { direction: 'WITHDRAWAL', decision: 'APPROVE', amount_minor: 500_000_000, address: 'bc1qcustomer', memo: 'm-1' })
  const register = (intentId: string, fbIntent: string, fbTx: string, extra: object = {}) =>
    lx.call('POST', cva('/withdrawals'), { body: { fb_tx_id: fbTx, fb_intent_id: fbIntent, intent_id: intentId, ...extra } })
  const settlement = { settlement_id: 's-1', settlement_tx_id: 'st-1' }
  const tx = await register(intent.intent_id, 'fb-w-1', 'fb-w-tx-1', { settlement })
  t.match(tx.body, { direction: 'WITHDRAWAL', status: 'APPROVED', settlement })
  t.same((await lx.call('GET', cva('/withdrawals/fb-w-tx-1'))).body, tx.body)
  t.equal((await lx.call('GET', acct(ACCOUNTS.acmeMain, '/wallets?coin=BTC'))).body.wallets[0].credit_minor, 2_800_000_000, '80% of the 35 BTC left')

  const tooMuch = await approvedIntent(lx, 'withdrawal', '36', 'fb-w-2')
  t.match(tooMuch, { decision: 'DECLINE', reason: 'only 35 BTC is held as collateral' })
  t.match((await register(tooMuch.intent_id, 'fb-w-2', 'fb-w-tx-2')).body, { status: 'REJECTED', reason: 'only 35 BTC is held as collateral' })

  const first = await approvedIntent(lx, 'withdrawal', '30', 'fb-w-3')
  const second = await approvedIntent(lx, 'withdrawal', '30', 'fb-w-4')
  t.equal((await register(first.intent_id, 'fb-w-3', 'fb-w-tx-3')).body.status, 'APPROVED')
  t.match((await register(second.intent_id, 'fb-w-4', 'fb-w-tx-4')).body, { status: 'REJECTED', reason: 'collateral no longer covers the withdrawal' })
  const deposit = await approvedIntent(lx, 'deposit', '1', 'fb-d')
  t.equal((await register(deposit.intent_id, 'fb-d', 'fb-w-tx-5')).body.error.code, 'INTENT_NOT_FOUND', 'a deposit intent does not approve a withdrawal')
  t.equal((await lx.call('GET', cva('/withdrawals?limit=2&sort=oldest'))).body.total, 4)
})

t.test('settlement plans: current revision, initiation, staleness, completion', async (t) => {
  const lx = await startExchange(t)
  const current = await lx.call('GET', cva('/settlement-plans/current'))
  t.match(current.body, {
    collateral_id: CID,
    revision: 1,
    state: 'OPEN',
    settlement_id: null,
    from_cva: [{ asset: { currency: 'BTC' }, amount_minor: 25_000_000, fee_minor: 2_000, decimals: 8, address: 'bc1q9h7garjk7qh0lsq6n8zd0pt3xh8f0gw6ctzmhv', tx_state: 'NOT_SUBMITTED' }],
    to_cva: [{ asset: { token_id: TOKENS.usdcEthereum }, amount_minor: 1_500_000_000, decimals: 6, address: '0x1Dd0386E43C0F66981e46C6e6A57E9d8919b6125', memo: null }],
  })
  t.same((await lx.call('GET', cva('/settlement-plans/1'))).body, current.body)
  t.equal((await lx.call('GET', cva('/settlement-plans/9'))).body.error.code, 'SETTLEMENT_PLAN_NOT_FOUND')
  t.equal((await lx.call('GET', cva('/settlement-plans/v1'))).status, 404)

  const setPosition = (position: string) =>
    lx.call('POST', backoffice(`/cva/${CID}/positions`), { body: { asset: { currency: 'BTC' }, position }, operator: true })
  const replanned = await setPosition('-0.5')
  t.match(replanned.body, { revision: 2, from_cva: [{ amount_minor: 50_000_000 }] })
  t.equal((await lx.call('GET', cva('/settlement-plans/1'))).body.state, 'SUPERSEDED')
  const stale = await lx.call('POST', cva('/settlements'), { body: { settlement_id: 'fb-s-1', revision: 1 } })
  t.equal(stale.status, 409)
  t.match(stale.body.error, { code: 'SETTLEMENT_REVISION_STALE', field: 'revision' })

  const started = await lx.call('POST', cva('/settlements'), { body: { settlement_id: 'fb-s-2', revision: '2' } })
  t.match(started.body, { revision: 2, state: 'SETTLING', settlement_id: 'fb-s-2', from_cva: [{ tx_state: 'PROCESSING' }] })
  t.same((await lx.call('POST', cva('/settlements'), { body: { settlement_id: 'fb-s-3', revision: 2 } })).body, started.body, 'a retry returns the plan as it stands')
  t.equal((await setPosition('-1')).body.error.code, 'SETTLEMENT_IN_PROGRESS')
  t.equal((await approvedIntent(lx, 'withdrawal', '1', 'fb-w')).reason, 'a settlement is in progress')

  const finish = (revision: number, state: string) => lx.call('POST', backoffice(`/cva/${CID}/settlement-plans/${revision}/state`), { body: { state }, operator: true })
  const settled = await finish(2, 'SETTLED')
  t.match(settled.body.settled, { state: 'SETTLED', from_cva: [{ tx_state: 'CONFIRMED' }] })
  t.match(settled.body.current, { revision: 3, state: 'OPEN', from_cva: [], to_cva: [] })
  t.equal((await lx.call('GET', acct(ACCOUNTS.acmeMain, '/wallets?coin=BTC'))).body.wallets[0].credit_minor, 3_160_000_000, '80% of 39.5 BTC')
  t.equal((await finish(2, 'FAILED')).body.error.code, 'INVALID_TRANSITION')
})

t.test('a failed settlement leaves the positions for the next plan', async (t) => {
  const lx = await startExchange(t)
  await lx.call('POST', cva('/settlements'), { body: { settlement_id: 'fb-s', revision: 1 } })
  const failed = await lx.call('POST', backoffice(`/cva/${CID}/settlement-plans/1/state`), { body: { state: 'FAILED' }, operator: true })
  t.match(failed.body.settled, { state: 'FAILED', to_cva: [{ tx_state: 'FAILED' }] })
  t.match(failed.body.current, { revision: 2, from_cva: [{ amount_minor: 25_000_000 }], to_cva: [{ amount_minor: 1_500_000_000 }] })
  const positions = await lx.call('POST', backoffice('/cva/not-linked/positions'), { body: { asset: { currency: 'BTC' }, position: '1' }, operator: true })
  t.equal(positions.body.error.code, 'COLLATERAL_NOT_FOUND')
  const fiat = await lx.call('POST', backoffice(`/cva/${CID}/positions`), { body: { asset: { currency: 'USD' }, position: '1' }, operator: true })
  t.equal(fiat.body.error.code, 'ASSET_NOT_SUPPORTED')
})
