import t from 'tap'
import { randomUUID } from 'node:crypto'
import { buildLegacyExchange } from '../../examples/legacy-exchange/app.js'
import { ACCOUNTS, COLLATERAL, PAIRS, RAMP_ROUTES, SEEDED_DEPOSIT_ADDRESSES, USERS } from '../../examples/legacy-exchange/state/seed.js'
import { loadConfig } from '../../src/config/load.js'
import { compileMappings } from '../../src/mapping/load.js'
import { loadOpenApi } from '../../src/openapi/document.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway } from '../helpers/gateway.js'
import { repoPath } from '../helpers/paths.js'
import { specFile, specMissing } from '../helpers/spec.js'

/** The demo's mapping files (config/demo/mappings) in front of the demo legacy exchange. */
const demoConfig = repoPath('config/demo/gateway.yaml')

t.test('the demo mappings compile: 50 routes', async (t) => {
  t.equal(compileMappings(loadConfig(demoConfig, {})).routes.size, 50)
})

t.test('the demo maps every Network Link operation', { skip: specMissing }, async (t) => {
  const openapi = loadOpenApi(specFile)
  const mapped = compileMappings(loadConfig(demoConfig, {}), openapi).routes
  t.same([...openapi.operations.keys()].filter((key) => !mapped.has(key)), [])
})

t.test('the demo answers within the spec (responses enforced)', { skip: specMissing }, async (t) => {
  const legacy = buildLegacyExchange()
  const legacyUrl = await legacy.listen({ host: '127.0.0.1', port: 0 })
  const gateway = await startGateway({
    config: {
      auth: hmac.auth,
      upstream: { url: legacyUrl, subjectHeader: 'x-legacy-user' },
      mappings: [repoPath('config/demo/mappings')],
      openapi: { file: specFile, responseValidation: 'enforce' },
    },
    credentials: [{ apiKey: 'test-key', secret: { env: 'S' }, subject: USERS.acme }],
    env: hmac.env,
  })
  t.teardown(async () => {
    await gateway.close()
    await legacy.close()
  })
  const call = (method: string, path: string, body?: unknown) =>
    send(gateway.url, { method, path: `/v2${path}`, key: hmac.key, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const main = `/accounts/${ACCOUNTS.acmeMain}`
  const cva = `${main}/collateral/${COLLATERAL.acmeCva}`

  t.test('every read', async (t) => {
    const reads = [
      '/capabilities',
      '/capabilities/assets',
      '/capabilities/assets/de0c3b83-ba2d-4223-b8de-f35df08593ab',
      '/capabilities/liquidity/quotes',
      '/accounts?balances=true',
      `${main}?balances=true`,
      `${main}/balances`,
      `${main}/rate?conversionPairId=${PAIRS.btcUsd}`,
      `${main}/rate?rampsPairId=${RAMP_ROUTES.eurIbanToUsdc}`,
      `${main}/liquidity/quotes?order=asc`,
      `${main}/capabilities/transfers/withdrawals`,
      `${main}/capabilities/transfers/deposits`,
      `${main}/transfers/withdrawals`,
      `${main}/transfers/withdrawals/blockchain`,
      `${main}/transfers/withdrawals/fiat`,
      `${main}/transfers/withdrawals/peeraccount`,
      `${main}/transfers/withdrawals/subaccount`,
      `${main}/transfers/deposits`,
      `${main}/transfers/deposits/addresses`,
      `${main}/transfers/deposits/addresses/${SEEDED_DEPOSIT_ADDRESSES.acmeMainEurIban}`,
      `${main}/collateral/link`,
      `${cva}/addresses`,
      `${cva}/addresses/${COLLATERAL.btcAddress}`,
      `${cva}/deposits`,
      `${cva}/withdrawals`,
      `${cva}/settlement`,
      `${cva}/settlements/1`,
      `${main}/capabilities/ramps`,
      `${main}/ramps`,
    ]
    for (const path of reads) {
      const res = await call('GET', path)
      t.equal(res.status, 200, `GET ${path}${res.status === 200 ? '' : `: ${res.text}`}`)
    }
    const first = (await call('GET', `${main}/ramps?limit=1`)).json.ramps as Array<{ id: string }>
    t.equal((await call('GET', `${main}/ramps/${first[0]?.id}`)).status, 200, 'a ramp by id')
  })

  t.test('creates', async (t) => {
    const quote = await call('POST', `${main}/liquidity/quotes`, { fromAsset: { nationalCurrencyCode: 'USD' }, toAsset: { blockchain: 'Bitcoin', cryptocurrencySymbol: 'BTC' }, fromAmount: '650' })
    t.match([quote.status, quote.json], [200, { status: 'ready', fromAmount: '650' }])
    t.match((await call('POST', `${main}/liquidity/quotes/${quote.json.id}/execute`)).json, { status: 'executed' })
    const withdrawal = await call('POST', `${main}/transfers/withdrawals/blockchain`, {
      idempotencyKey: randomUUID(),
      balanceAmount: '0.5',
      balanceAsset: { blockchain: 'Bitcoin', cryptocurrencySymbol: 'BTC' },
      destination: { asset: { blockchain: 'Bitcoin', cryptocurrencySymbol: 'BTC' }, transferMethod: 'PublicBlockchain', address: 'bc1qdemo', amount: '0.4999' },
    })
    t.match([withdrawal.status, withdrawal.json], [201, { status: 'pending', balanceAmount: '0.5', destination: { amount: '0.4999' } }], 'the fee comes out of the amount sent')
    const ramp = await call('POST', `${main}/ramps`, {
      idempotencyKey: randomUUID(),
      type: 'OnRamp',
      amount: '10',
      from: { asset: { nationalCurrencyCode: 'EUR' }, transferMethod: 'Iban' },
      to: { asset: { assetId: 'de0c3b83-ba2d-4223-b8de-f35df08593ab' }, transferMethod: 'PublicBlockchain', address: '0xdemo' },
    })
    t.match([ramp.status, ramp.json], [201, { type: 'OnRamp', status: 'Pending', paymentInstructions: { transferMethod: 'Iban' } }])
    const address = await call('POST', `${main}/transfers/deposits/addresses`, { idempotencyKey: randomUUID(), transferMethod: { asset: { blockchain: 'Ethereum', cryptocurrencySymbol: 'ETH' }, transferMethod: 'PublicBlockchain' } })
    t.match([address.status, address.json], [200, { status: 'enabled' }])
    t.match((await call('DELETE', `${main}/transfers/deposits/addresses/${address.json.id}`)).json, { status: 'disabled' })
  })

  t.test('errors', async (t) => {
    t.match(await call('GET', `/accounts/${randomUUID()}/balances`), { status: 404, json: { errorType: 'not-found' } })
    const unknownAsset = await call('POST', `${main}/liquidity/quotes`, { fromAsset: { assetId: randomUUID() }, toAsset: { nationalCurrencyCode: 'USD' }, fromAmount: '1' })
    t.match(unknownAsset, { status: 400, json: { errorType: 'unknown-asset', propertyName: 'fromAsset', requestPart: 'body' } })
    const invalid = { idempotencyKey: randomUUID(), type: 'OnRamp', amount: '1', from: { asset: { nationalCurrencyCode: 'EUR' }, transferMethod: 'Momo' } }
    t.match(await call('POST', `/accounts/${randomUUID()}/ramps`, invalid), { status: 404, json: { errorType: 'not-found' } }, 'an unknown account is 404 whatever the body')
    t.match(await call('POST', `${main}/ramps`, invalid), { status: 400, json: { requestPart: 'body' } })
  })
})
