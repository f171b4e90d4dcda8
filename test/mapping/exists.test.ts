import t from 'tap'
import { Backend, type RecordedRequest } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, mappedGateway } from '../helpers/gateway.js'
import { specFile, specMissing } from '../helpers/spec.js'
import { ConfigError, formatProblem } from '../../src/config/problems.js'
import { SourceDocument } from '../../src/config/yaml.js'
import { compileRoute } from '../../src/mapping/route.js'
import type { Problem } from '../../src/config/problems.js'

const mapping = `defaults:
  errors:
    - { when: { status: 404 }, errorType: not-found, message: $body.error }
routes:
  - route: POST /accounts/{accountId}/transfers/withdrawals/blockchain
    exists: { get: "/accounts/{accountId}" }
    upstream: { post: "/accounts/{accountId}/payouts", body: { amount: $body.balanceAmount } }   # answered as the backend sends it
`

t.test('`exists` makes an unknown account 404 even when the body breaks the schema', { skip: specMissing }, async (t) => {
  const backend = await Backend.start((req: RecordedRequest) => {
    if (req.url === '/accounts/missing') return { status: 404, body: { error: 'no account missing' } }
    if (req.url === '/accounts/broken') return { status: 503, body: { error: 'down' } }
    if (req.method === 'POST') return { status: 201, body: { id: 'p-1' } }
    return { body: { id: 'known' } }
  })
  t.teardown(() => backend.close())
  const gateway = await mappedGateway(t, mapping, backend.url, { openapi: { file: specFile } })
  const post = async (account: string, body: unknown) => {
    const before = backend.requests.length
    const res = await send(gateway.url, { method: 'POST', path: `/v2/accounts/${account}/transfers/withdrawals/blockchain`, key: hmac.key, body: JSON.stringify(body) })
    return { status: res.status, json: res.json, calls: backend.requests.slice(before).map((r) => `${r.method} ${r.url}`) }
  }
  const invalid = { idempotencyKey: 'k', balanceAmount: '1' } // no balanceAsset, no destination

  t.match(await post('missing', invalid), { status: 404, json: { errorType: 'not-found', message: 'no account missing' }, calls: ['GET /accounts/missing'] }, 'the check answers, translated by the rules')
  t.match(await post('known', invalid), { status: 400, json: { errorType: 'schema-property-error', requestPart: 'body' }, calls: ['GET /accounts/known'] }, 'it exists: the 400 stands')
  t.match(await post('broken', invalid), { status: 400, calls: ['GET /accounts/broken'] }, 'a check that cannot answer leaves the 400')
  const valid = {
    idempotencyKey: 'k2',
    balanceAmount: '1',
    balanceAsset: { nationalCurrencyCode: 'USD' },
    destination: { asset: { assetId: 'a' }, transferMethod: 'PublicBlockchain', address: 'x', amount: '1' },
  }
  t.match(await post('known', valid), { status: 201, json: { id: 'p-1' }, calls: ['POST /accounts/known/payouts'] }, 'a valid request never makes the check')
})

t.test('`exists` reads only the path and the credential: it runs before the request is validated', async (t) => {
  const problems: Problem[] = []
  const doc = SourceDocument.parse('m.yaml', 'route: POST /accounts/{accountId}/ramps\nexists: { get: "/a/{accountId}/{$body.x}" }\nupstream: { post: /r }\n')
  compileRoute(doc, 0, doc.value as Record<string, unknown>, { timeoutMs: 1000, exactNumbers: false, errors: [], subjectHeader: 'x-user', successStatus: () => 200 }, problems)
  t.match(new ConfigError(problems).problems.map(formatProblem), [/unknown reference \$body; here you can use \$params, \$subject, \$credential, \$requestId, \$now/])
})
