import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoPath } from '../helpers/paths.js'
import { specFile, specMissing } from '../helpers/spec.js'
import { tempDir } from '../helpers/temp.js'

/** `nlgw test-mapping` as a user runs it: a child process, answers recorded in files. */
const dir = tempDir('nlgw-test-mapping-')
const file = (name: string, content: unknown) => {
  const path = join(dir, name)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}
const run = (...args: string[]) => {
  const res = spawnSync(process.execPath, [repoPath('dist/src/cli/nlgw.js'), 'test-mapping', ...args], { encoding: 'utf8' })
  let out: { upstream: Array<{ call?: string; target: string; body?: unknown }>; response: { status: number; body?: Record<string, unknown> } } | undefined
  try {
    out = JSON.parse(res.stdout)
  } catch {
    out = undefined
  }
  return { code: res.status, out, stderr: res.stderr }
}

const mappings = file(
  'mappings.yaml',
  `routes:
  - route: GET /accounts
    upstream:
      - name: list
        post: /rpc
        body: { method: accounts, offset: $page.offset, limit: $page.limit }
        pages: { items: result.items, size: 2 }
      - name: balances
        each: $list.result.items
        as: account
        post: /rpc
        body: { method: balances, account: $account.id }
    paginate: accounts
    errors:
      - { when: { $body.error.code: 404 }, errorType: not-found, message: "account {$account.id}: {$body.error.message}" }
    response:
      accounts:
        $each: $list.result.items
        $as: account
        id: $account.id
        title: $account.name
        status: { $switch: $account.state, OPEN: active }
        balances: { $each: "$balances[$index].result", id: $item.ccy, asset: { nationalCurrencyCode: $item.ccy }, availableAmount: $item.amount }
`,
)
const page1 = file('page1.json', { result: { items: [{ id: 'a1', name: 'One', state: 'OPEN' }, { id: 'a2', name: 'Two', state: 'OPEN' }] } })
const page2 = file('page2.json', { result: { items: [{ id: 'a3', name: 'Three', state: 'OPEN' }] } })
const closed = file('closed.json', { result: { items: [{ id: 'a1', name: 'One', state: 'CLOSED' }] } })
const balance = (ccy: string) => file(`${ccy}.json`, { result: [{ ccy, amount: '1' }] })
const gone = file('gone.json', { error: { code: 404, message: 'no such account' } })
const route = ['--mappings', mappings, '--route', 'GET /accounts']

t.test('--help', async (t) => {
  const res = spawnSync(process.execPath, [repoPath('dist/src/cli/nlgw.js'), 'test-mapping', '--help'], { encoding: 'utf8' })
  t.equal(res.status, 0)
  t.match(res.stdout, /--upstream-response CALL=FILE {2}the answer to the call named CALL/)
  t.match(res.stdout, /exit 1: the gateway answered an error of its own/)
})

t.test('answers by call name, several per call (pages, per-item calls), then pages the result as the gateway does', async (t) => {
  const res = run(...route, '--query', '{"limit":"2","startingAfter":"a1"}', '--upstream-response', `balances=${balance('USD')}`, '--upstream-response', `list=${page1}`, '--upstream-response', `list=${page2}`, '--upstream-response', `balances=${balance('EUR')}`, '--upstream-response', `balances=${balance('GBP')}`)
  t.equal(res.code, 0, res.stderr)
  t.same(
    res.out?.upstream.map((c) => [c.call, c.body]),
    [
      ['list', { method: 'accounts', offset: 0, limit: 2 }],
      ['list', { method: 'accounts', offset: 2, limit: 2 }],
      ['balances', { method: 'balances', account: 'a1' }],
      ['balances', { method: 'balances', account: 'a2' }],
      ['balances', { method: 'balances', account: 'a3' }],
    ],
  )
  t.same(res.out?.response, {
    status: 200,
    body: {
      accounts: [
        { id: 'a2', title: 'Two', status: 'active', balances: [{ id: 'EUR', asset: { nationalCurrencyCode: 'EUR' }, availableAmount: '1' }] },
        { id: 'a3', title: 'Three', status: 'active', balances: [{ id: 'GBP', asset: { nationalCurrencyCode: 'GBP' }, availableAmount: '1' }] },
      ],
    },
  }, 'paginated: after a1, two items')
})

t.test('an error a rule makes is the mapping answering: exit 0', async (t) => {
  const res = run(...route, '--upstream-response', `list=${page2}`, '--upstream-response', `balances=${gone}`)
  t.equal(res.code, 0, res.stderr)
  t.same(res.out?.response, { status: 404, body: { message: 'account a3: no such account', errorType: 'not-found' } })
})

t.test('the gateway answering an error of its own: exit 1, the reason on stderr', async (t) => {
  const res = run(...route, '--upstream-response', `list=${closed}`, '--upstream-response', `balances=${balance('USD')}`)
  t.equal(res.code, 1)
  t.same(res.out?.response, { status: 502, body: { message: 'Backend answer could not be translated', errorType: 'internal-error' } })
  t.match(res.stderr, /mapping error: .*no case for "CLOSED"/)
  const unmapped = run(...route, '--upstream-response', `list=${page2}`, '--upstream-response', `balances=${balance('USD')}`, '--upstream-status', 'balances=500')
  t.same([unmapped.code, unmapped.out?.response.status], [1, 502], 'a status no rule translates')
  const invalid = run(...route, '--query', '{"limit":"0"}')
  t.same([invalid.code, invalid.out?.response.status, invalid.out?.upstream], [1, 400, []], 'a request the gateway refuses')
})

t.test('a call without an answer is a usage error', async (t) => {
  const res = run(...route, '--upstream-response', `list=${page1}`, '--upstream-response', `list=${page2}`, '--upstream-response', `balances=${balance('USD')}`)
  t.equal(res.code, 2)
  t.match(res.stderr, /no answer left for call #4 \(balances\), POST \/rpc: give one --upstream-response per backend answer/)
})

t.test('with the OpenAPI document: requests and responses validated as the gateway does (enforce)', { skip: specMissing }, async (t) => {
  const noTitle = file('no-title.json', { result: { items: [{ id: 'a1', state: 'OPEN' }] } })
  const res = run(...route, '--openapi', specFile, '--upstream-response', `list=${noTitle}`, '--upstream-response', `balances=${balance('USD')}`)
  t.equal(res.code, 1)
  t.same(res.out?.response, { status: 502, body: { message: 'Backend answer does not conform to the Network Link schema', errorType: 'internal-error' } })
  t.match(res.stderr, /mapped response breaks the OpenAPI schema: .*path=\/accounts\/0/)
  const reported = run(...route, '--openapi', specFile, '--response-validation', 'report', '--upstream-response', `list=${noTitle}`, '--upstream-response', `balances=${balance('USD')}`)
  t.same([reported.code, reported.out?.response.status], [0, 200], 'report: logged, answered')
})
