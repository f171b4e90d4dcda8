import t from 'tap'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { buildLegacyExchange } from '../../examples/legacy-exchange/app.js'
import { ACCOUNTS, COLLATERAL } from '../../examples/legacy-exchange/state/seed.js'
import { loadConfig } from '../../src/config/load.js'
import { createGateway } from '../../plugins/gateway.js'
import { createSigner } from '../../src/signing/index.js'
import { send } from '../helpers/client.js'
import { repoPath } from '../helpers/paths.js'

/**
 * A representative slice of the demo, end to end and without the OpenAPI
 * document, so that it runs everywhere: signed requests with the demo's RSA
 * credential, through config/demo/gateway.yaml and its mappings, to the demo
 * legacy exchange.
 */
const legacy = buildLegacyExchange()
const legacyUrl = await legacy.listen({ host: '127.0.0.1', port: 0 })
const config = loadConfig(repoPath('config/demo/gateway.yaml'), { UPSTREAM_URL: legacyUrl, PORT: '0' })
const gateway = await createGateway({ ...config, outbound: undefined }, { logger: false })
await gateway.app.listen({ host: '127.0.0.1', port: 0 })
t.teardown(async () => {
  await gateway.close()
  await legacy.close()
})
const url = `http://127.0.0.1:${(gateway.app.server.address() as { port: number }).port}`
// The demo credential the validator uses: RSA SHA-256, url-encoded, base64.
const signer = createSigner({ algorithm: 'rsa', hash: 'sha256', preEncoding: 'url-encoded', postEncoding: 'base64' }, readFileSync(repoPath('config/demo/keys/validator-rsa.key')))
const call = (method: string, path: string, body?: unknown) =>
  send(url, { method, path: `/v2${path}`, apiKey: 'demo-rsa', signer, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
const main = `/accounts/${ACCOUNTS.acmeMain}`
const btc = { blockchain: 'Bitcoin', cryptocurrencySymbol: 'BTC' }

t.test('balances: minor units become exact decimal strings', async (t) => {
  const res = await call('GET', `${main}/balances`)
  t.equal(res.status, 200)
  const balances = res.json.balances as Array<{ asset: Record<string, string>; availableAmount: string }>
  t.match(balances.find((b) => b.asset.cryptocurrencySymbol === 'BTC'), { asset: btc, availableAmount: '250' })
  t.match(balances.find((b) => b.asset.nationalCurrencyCode === 'USD'), { availableAmount: '2500000' })
})

t.test('a withdrawal, retried with its idempotency key, moves money once', async (t) => {
  const before = (await call('GET', `${main}/balances?cryptocurrencySymbol=BTC`)).json.balances as Array<{ availableAmount: string }>
  const request = {
    idempotencyKey: randomUUID(),
    balanceAmount: '0.5',
    balanceAsset: btc,
    destination: { asset: btc, transferMethod: 'PublicBlockchain', address: 'bc1qdemo', amount: '0.4999' },
  }
  const first = await call('POST', `${main}/transfers/withdrawals/blockchain`, request)
  t.equal(first.status, 201, first.text)
  const retry = await call('POST', `${main}/transfers/withdrawals/blockchain`, request)
  t.same([retry.status, retry.text], [first.status, first.text], 'the retry gets exactly the first answer')
  const after = (await call('GET', `${main}/balances?cryptocurrencySymbol=BTC`)).json.balances as Array<{ availableAmount: string }>
  t.equal(after[0]?.availableAmount, String(Number(before[0]?.availableAmount) - 0.5), 'debited once')
  const reused = await call('POST', `${main}/transfers/withdrawals/blockchain`, { ...request, balanceAmount: '0.6' })
  t.match(reused, { status: 400, json: { errorType: 'idempotency-key-reuse' } })
  t.match((await call('GET', `${main}/transfers/withdrawals/${first.json.id}`)).json, { id: first.json.id, balanceAmount: '0.5' })
})

t.test('a ramp: created, then read back', async (t) => {
  const ramp = await call('POST', `${main}/ramps`, {
    idempotencyKey: randomUUID(),
    type: 'OnRamp',
    amount: '10',
    from: { asset: { nationalCurrencyCode: 'EUR' }, transferMethod: 'Iban' },
    to: { asset: { assetId: 'de0c3b83-ba2d-4223-b8de-f35df08593ab' }, transferMethod: 'PublicBlockchain', address: '0xdemo' },
  })
  t.match([ramp.status, ramp.json], [201, { type: 'OnRamp', status: 'Pending', amount: '10' }], ramp.text)
  t.match((await call('GET', `${main}/ramps/${ramp.json.id}`)).json, { id: ramp.json.id, type: 'OnRamp' })
})

t.test('a collateral deposit: intent, then the transaction', async (t) => {
  const cva = `${main}/collateral/${COLLATERAL.acmeCva}`
  const fireblocksIntentId = randomUUID()
  const intent = await call('POST', `${cva}/intents/deposits`, { asset: btc, amount: '1.25', intentApprovalRequest: { fireblocksIntentId } })
  t.match([intent.status, intent.json], [200, { status: 'Approved', amount: '1.25', approvalRequest: { fireblocksIntentId } }], intent.text)
  const collateralTxId = `0.${randomUUID()}.${randomUUID()}`
  const approvalRequest = { fireblocksIntentId, partnerIntentId: (intent.json.approvalRequest as { partnerIntentId: string }).partnerIntentId }
  const deposit = await call('POST', `${cva}/deposits`, { collateralTxId, approvalRequest })
  t.equal(deposit.status, 200, deposit.text)
  t.match(await call('GET', `${cva}/deposits/${collateralTxId}`), { status: 200, json: { collateralTxId, status: String } }, 'found by the Fireblocks transaction id')
})

t.test('a paginated list: walking by startingAfter visits every item once, in order', async (t) => {
  const all = ((await call('GET', `${main}/transfers/withdrawals?limit=200`)).json.withdrawals as Array<{ id: string }>).map((w) => w.id)
  t.ok(all.length >= 3, `${all.length} withdrawals`)
  const walked: string[] = []
  let cursor = ''
  for (let page = 0; page < 50; page++) {
    const ids = ((await call('GET', `${main}/transfers/withdrawals?limit=2${cursor ? `&startingAfter=${cursor}` : ''}`)).json.withdrawals as Array<{ id: string }>).map((w) => w.id)
    if (!ids.length) break
    walked.push(...ids)
    cursor = ids.at(-1) as string
  }
  t.same(walked, all)
  const before = (await call('GET', `${main}/transfers/withdrawals?limit=2&endingBefore=${all[2]}`)).json.withdrawals as Array<{ id: string }>
  t.same(before.map((w) => w.id), all.slice(0, 2))
  t.match(await call('GET', `${main}/transfers/withdrawals?startingAfter=a&endingBefore=b`), { status: 400, json: { errorType: 'schema-error', requestPart: 'querystring' } })
})
