import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, formatProblem } from '../../src/config/problems.js'
import { loadMappings } from '../../src/mapping/load.js'
import { loadOpenApi } from '../../src/openapi/document.js'
import { specFile, specMissing } from '../helpers/spec.js'
import { tempDir } from '../helpers/temp.js'

/** What `nlgw check` knows about a mapping without running it. */
const dir = tempDir('nlgw-static-')
const openapi = specMissing ? undefined : loadOpenApi(specFile)

function problems(text: string, withSpec = false): string[] {
  const file = join(dir, 'm.yaml')
  writeFileSync(file, text)
  try {
    loadMappings([file], { defaultTimeoutMs: 1000, subjectHeader: 'x-user', successStatus: () => 200, ...(withSpec && openapi ? { openapi } : {}) })
    return []
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return err.problems.map((p) => formatProblem(p).replace(file, 'm.yaml'))
  }
}

t.test('paginate names a list the response builds', async (t) => {
  const route = (paginate: string) => `routes:
  - route: GET /accounts
    upstream: { get: /accounts }
    paginate: ${paginate}
    response:
      accounts: { $each: $body.list, id: $item.id }
      meta: { count: 1 }
`
  t.same(problems(route('accounts')), [])
  t.same(problems(route('acounts')), ['m.yaml:4:15: routes[0].paginate: the response this route builds has no "acounts" (did you mean "accounts"?): nothing to paginate'])
  t.same(problems(route('meta.count')), ['m.yaml:4:15: routes[0].paginate: "meta.count" is not a list in the response this route builds: nothing to paginate'])
  t.same(problems(route('"meta..count"')), ['m.yaml:4:15: routes[0].paginate: must be the path of the list (paginate: balances, or result.balances) or { list, id }'])
  t.same(problems(route('accounts').replace('response:', 'response: $body\n    unused:')).length, 1, 'a response the backend sends as is cannot be known: not a paginate problem')
})

t.test('paths name places in a backend answer', async (t) => {
  const route = (items: string) => `routes:
  - route: GET /accounts
    upstream: { get: /accounts, pages: { items: ${items}, total: result.count } }
    response: { accounts: $body.result.items }
`
  t.same(problems(route('result.items')), [])
  t.same(problems(route('"result..items"')), ['m.yaml:3:49: routes[0].upstream.pages.items: must be a path such as items or result.items (as after $body. in a reference)'])
  t.same(problems(route('result.__proto__')), ['m.yaml:3:49: routes[0].upstream.pages.items: "result.__proto__" reads a reserved property'])
})

t.test('error rules that can never answer', async (t) => {
  t.same(
    problems(`defaults:
  errors:
    - { when: { status: 5xx }, errorType: internal-error }
    - { when: { status: 503 }, errorType: internal-error, message: Busy }
routes:
  - route: GET /accounts
    upstream: { get: /accounts }
    errors:
      - { when: { status: 4xx }, errorType: bad-request }
      - { when: { status: 404, $body.code: GONE }, errorType: not-found }
      - { when: { status: 200, $body.ok: false }, errorType: internal-error }
      - { when: { $body.ok: [false, 0] }, errorType: internal-error }
      - { when: { status: 201, $body.ok: false }, errorType: internal-error }
    response: { accounts: [] }
  - route: GET /capabilities
    errors:
      - { when: { status: 404 }, errorType: not-found }
    response: { version: "1.0.0" }
`),
    [
      'm.yaml:10:17: routes[0].errors[1].when: this rule can never answer: the rule before it at routes[0].errors[0] (line 9) holds whenever it does; put the narrower rule first',
      'm.yaml:13:17: routes[0].errors[4].when: this rule can never answer: the rule before it at routes[0].errors[3] (line 12) holds whenever it does; put the narrower rule first',
      'm.yaml:4:15: defaults.errors[1].when: this rule can never answer: the rule before it at defaults.errors[0] (line 3) holds whenever it does; put the narrower rule first',
      'm.yaml:17:7: routes[1].errors: a route without upstream calls has no backend answer to translate: these rules can never answer',
    ],
    'a rule on a 2xx body is not one of them',
  )
})

t.test('responses and error bodies against the OpenAPI schema of their operation', { skip: specMissing }, async (t) => {
  const check = (routes: string, fragments = '') => problems(`${fragments}routes:\n${routes}`, true)
  t.same(
    check(`  - route: GET /accounts/{accountId}
    upstream: { get: /a }
    response: { id: $body.id, titel: $body.name }
`),
    [
      'm.yaml:4:15: routes[0].response: an Account requires "title", and no branch of this template produces it (it has "titel": a typo?)',
      'm.yaml:4:15: routes[0].response: an Account requires "status", and no branch of this template produces it',
    ],
    'required properties no branch produces',
  )
  t.same(
    check(`  - route: GET /accounts/{accountId}
    upstream: { get: /a }
    response:
      id: $body.id
      title: $body.name
      status: { $switch: $body.state, OPEN: active, FROZEN: inactiv, $default: { $if: $body.x, then: active, else: closed } }
`),
    [
      'm.yaml:7:61: routes[0].response.status.FROZEN: "inactiv" is not allowed as an AccountStatus (did you mean "inactive"?); expected one of active, inactive',
      'm.yaml:7:116: routes[0].response.status.$default.else: "closed" is not allowed as an AccountStatus; expected one of active, inactive',
    ],
    'every branch is checked: static strings outside an enum',
  )
  t.same(
    check(`  - route: GET /capabilities
    response: { version: "1.0", components: { accounts: "*", balances: [a, 7] } }
  - route: GET /accounts/{accountId}/balances
    upstream: { get: /a }
    response:
      balances:
        $each: $body.list
        id: $item.id
        asset: { nationalCurrencyCode: USD }
        availableAmount: { $date: $item.at, to: ms }
`),
    [
      'm.yaml:3:26: routes[0].response.version: "1.0" is not allowed here: it does not match ^(\\d)+\\.(\\d)+\\.(\\d)+$',
      'm.yaml:3:76: routes[0].response.components.balances[1]: 7 is not allowed here: the spec wants text',
      'm.yaml:11:26: routes[1].response.balances.availableAmount: a number is not allowed as a PositiveAmount: the spec wants text',
    ],
    'patterns and types of what the template certainly produces',
  )
  t.same(
    check(`  - route: GET /accounts/{accountId}/balances
    upstream: { get: /a }
    response:
      balances:
        $each: $body.list
        id: $item.id
        asset: { $switch: $item.kind, FIAT: { nationalCurrencyCode: $item.ccy }, COIN: { cryptocurrencySymbol: $item.ccy, blockchain: Bitcoin }, OTHER: { currency: $item.ccy } }
        availableAmount: { $decimal: $item.minor, scale: 2 }
`),
    [
      'm.yaml:8:153: routes[0].response.balances.asset.OTHER: this object is none of the forms allowed here, and no branch of this template makes it one: a NationalCurrency requires "nationalCurrencyCode"; a NativeCryptocurrency requires "blockchain", "cryptocurrencySymbol"; an OtherAssetReference requires "assetId"',
    ],
    'a branch that is none of the alternatives',
  )
  t.same(
    check(`  - route: GET /accounts/{accountId}/transfers/deposits
    upstream: { get: /d }
    status: { $if: { $eq: [$body.ok, false] }, then: 404, else: 200 }
    response:
      $if: { $eq: [$body.ok, false] }
      then: { message: $body.error, errorType: not-found }
      else: { deposits: [] }
  - route: GET /accounts/{accountId}/transfers/withdrawals
    upstream: { get: /w }
    status: { $if: { $eq: [$body.ok, false] }, then: 404, else: 200 }
    response:
      $if: { $eq: [$body.ok, false] }
      then: { message: $body.error, errorType: unknown-asset }
      else: { withdrawals: [] }
    errors:
      - { when: { $body.code: NOPE }, errorType: amount-below-minimum, status: 404 }
      - { when: { $body.code: BAD }, errorType: amount-below-minimum, requestPart: query }
`),
    [
      'm.yaml:14:48: routes[1].response.then.errorType: "unknown-asset" is not allowed here; expected one of internal-error, not-found',
      'm.yaml:17:50: routes[1].errors[0].errorType: "amount-below-minimum" is not allowed here; expected one of internal-error, not-found (in the body of a 404 error)',
      'm.yaml:18:84: routes[1].errors[1].requestPart: "query" is not allowed as a RequestPart; expected one of params, body, querystring, headers (in the body of a 400 error)',
    ],
    'a templated error status is checked against the error schema for it, and each rule body against its status',
  )
})

t.test('a fragment branch meant for some routes is a mistake only when it is one for all of them', { skip: specMissing }, async (t) => {
  const balances = `  - route: GET /accounts/{accountId}/balances
    upstream: { get: /a }
    response: { balances: { $each: $body.list, id: $item.id, availableAmount: "1", asset: { $let: { asset: $item.asset }, in: *asset } } }
`
  const collateral = `  - route: GET /accounts/{accountId}/collateral/link
    upstream: { get: /l }
    response:
      collateralLinks:
        $each: $body.links
        id: $item.id
        status: Linked
        collateralId: $item.cid
        collateralSigners: []
        env: prod
        eligibleCollateralAssets: { $each: $item.assets, $as: asset, $value: *asset }
`
  const file = (routes: string) => `fragments:
  asset: &asset
    $switch: $asset.type
    FIAT: { nationalCurrencyCode: $asset.currency }
    COIN: { cryptocurrencySymbol: $asset.currency, blockchain: Bitcoin }
routes:
${routes}`
  t.same(problems(file(balances + collateral), true), [], 'FIAT is wrong for collateral, right for balances: the branch serves the balances route')
  t.same(
    problems(file(collateral), true),
    ['m.yaml:4:11: fragments.asset.FIAT: this object is none of the forms allowed here, and no branch of this template makes it one: a NativeCryptocurrency requires "blockchain", "cryptocurrencySymbol"; an OtherAssetReference requires "assetId" (used at line 17)'],
    'wrong for every route that uses it: reported once, at the fragment',
  )
  t.same(
    problems(file(balances + collateral).replace('nationalCurrencyCode: $asset.currency', 'nationalCurrency: $asset.currency'), true).map((p) => p.replace(/: this object.*?(?= \(used)/, ': …')),
    ['m.yaml:4:11: fragments.asset.FIAT: … (used at lines 9, 20)'],
    'a typo makes it wrong for both',
  )
})
