import t from 'tap'
import { Backend, type RecordedRequest } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, mappedGateway, type TestGateway } from '../helpers/gateway.js'
import { specFile, specMissing } from '../helpers/spec.js'

/** A backend in the style of many legacy and RPC APIs: every answer is a 200, failures say so in the body. */
function legacy(req: RecordedRequest) {
  const account = /^\/accounts\/([^/]+)/.exec(req.url)?.[1]
  if (account === 'missing') return { body: { ok: false, error: { code: 'NO_ACCOUNT', text: 'no such account', kind: 'unknown-asset' } } }
  if (account === 'locked') return { body: { ok: false, error: { code: 'LOCKED', text: 'account locked' } } }
  if (account === 'odd') return { body: { ok: false, error: { code: 'SOMETHING_NEW' } } }
  if (account === 'down') return { status: 503, body: { ok: false } }
  return { body: { ok: true, data: { wallets: [{ id: 'w1', minor: 150 }, { id: 'w2', minor: 5 }] } } }
}

const rules = `
    errors:
      - when: { $body.error.code: NO_ACCOUNT }          # any status, 200 included
        errorType: not-found
        message: $body.error.text
      - when: { status: 200, $body.error.code: LOCKED }
        errorType: bad-request
        message: $body.error.text
      - when: { status: 2xx, if: { $eq: [$body.ok, false] } }
        errorType: internal-error
        message: The exchange could not answer
      - when: { status: 5xx }
        errorType: internal-error
        message: The exchange is down`

const mapping = `routes:
  - route: GET /accounts/{accountId}/balances
    upstream: { get: "/accounts/{accountId}/wallets" }
    paginate: balances
${rules}
    response:
      balances:
        $each: $body.data.wallets
        id: $item.id
        asset: { nationalCurrencyCode: USD }
        availableAmount: { $decimal: $item.minor, scale: 2 }
  # The older workaround: the status and the body chosen by templates.
  - route: GET /accounts/{accountId}/transfers/deposits
    upstream: { get: "/accounts/{accountId}/deposits" }
    paginate: deposits
    status: { $if: { $eq: [$body.ok, false] }, then: 404, else: 200 }
    response:
      $if: { $eq: [$body.ok, false] }
      then: { message: $body.error.text, errorType: not-found }
      else: { deposits: [] }
  - route: GET /accounts/{accountId}/transfers/withdrawals
    upstream: { get: "/accounts/{accountId}/payouts" }
    paginate: withdrawals
    status: { $if: { $eq: [$body.ok, false] }, then: 404, else: 200 }
    response:
      $if: { $eq: [$body.ok, false] }
      then: { message: $body.error.text, errorType: $body.error.kind }   # the backend's kind: not an error type a 404 may carry
      else: { withdrawals: [] }
`

t.test('error rules hold whatever the status: errors inside a 200, in the same list as status rules', async (t) => {
  const backend = await Backend.start(legacy)
  t.teardown(() => backend.close())
  const gw = await mappedGateway(t, mapping, backend.url)
  const get = (account: string) => send(gw.url, { path: `/v2/accounts/${account}/balances`, key: hmac.key })
  t.match(await get('a'), { status: 200, json: { balances: [{ id: 'w1', availableAmount: '1.5' }, { id: 'w2', availableAmount: '0.05' }] } }, 'a success stays one')
  t.same((await get('missing')).json, { message: 'no such account', errorType: 'not-found' })
  t.equal((await get('missing')).status, 404, "a rule's status decides the answer")
  t.same(await get('locked').then((r) => [r.status, r.json]), [400, { message: 'account locked', errorType: 'bad-request' }], 'status and body conditions together')
  t.same(await get('odd').then((r) => [r.status, r.json]), [500, { message: 'The exchange could not answer', errorType: 'internal-error' }], 'an `if` condition')
  t.same(await get('down').then((r) => [r.status, r.json]), [500, { message: 'The exchange is down', errorType: 'internal-error' }], 'status rules as before')
})

t.test('a templated error status skips pagination and is checked against the error schema, not the success one', { skip: specMissing }, async (t) => {
  const backend = await Backend.start(legacy)
  t.teardown(() => backend.close())
  const enforced = await mappedGateway(t, mapping, backend.url, { openapi: { file: specFile, responseValidation: 'enforce' } })
  const get = (gw: TestGateway, path: string) => send(gw.url, { path: `/v2${path}`, key: hmac.key })
  t.same(await get(enforced, '/accounts/missing/transfers/deposits').then((r) => [r.status, r.json]), [404, { message: 'no such account', errorType: 'not-found' }], 'a correct 404, not a 502')
  t.same(await get(enforced, '/accounts/a/transfers/deposits').then((r) => [r.status, r.json]), [200, { deposits: [] }])
  t.same(await get(enforced, '/accounts/missing/balances').then((r) => [r.status, r.json]), [404, { message: 'no such account', errorType: 'not-found' }], 'a rule-made error conforms')
  const invalid = await get(enforced, '/accounts/missing/transfers/withdrawals')
  t.same([invalid.status, invalid.json.errorType], [502, 'internal-error'], 'an error body the spec does not allow for a 404 is caught')
  const counted = await enforced.metrics.registry.getSingleMetric('nlgw_response_validation_failures_total')?.get()
  t.same(counted?.values.map((v) => [v.labels.route, v.value]), [['GET /accounts/{accountId}/transfers/withdrawals', 1]], 'only the wrong one is counted')

  const reported = await mappedGateway(t, mapping, backend.url, { openapi: { file: specFile, responseValidation: 'report' } })
  t.same(await get(reported, '/accounts/missing/transfers/deposits').then((r) => r.status), 404)
  const none = await reported.metrics.registry.getSingleMetric('nlgw_response_validation_failures_total')?.get()
  t.same(none?.values.filter((v) => v.value > 0), [], 'report: no false problem for a correct error answer')
})
