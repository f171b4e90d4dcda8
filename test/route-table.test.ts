import t from 'tap'
import fc from 'fast-check'
import { compileTemplate, HTTP_METHODS, RouteTable, routeKey, splitRouteKey, templateParams } from '../src/route-table.js'

t.test('splitRouteKey and routeKey', async (t) => {
  t.same(splitRouteKey('GET /accounts/{accountId}'), { method: 'GET', path: '/accounts/{accountId}' })
  t.same(splitRouteKey('post /a'), { method: 'POST', path: '/a' }, 'the method is upper-cased')
  t.same(splitRouteKey('* /collateral/**'), { method: '*', path: '/collateral/**' })
  t.same(splitRouteKey('GET /a b'), { method: 'GET', path: '/a b' }, 'split at the first space only')
  t.equal(routeKey('patch', '/a/{b}'), 'PATCH /a/{b}')
  for (const key of ['GET /', 'DELETE /a/{b}/c', '* /x/**']) {
    const { method, path } = splitRouteKey(key)
    t.equal(routeKey(method, path), key, `round trip ${key}`)
  }
  t.same(HTTP_METHODS, ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
})

t.test('templateParams: whole-segment parameters, in order', async (t) => {
  t.same(templateParams('/accounts/{accountId}/transfers/{transferId}'), ['accountId', 'transferId'])
  t.same(templateParams('/a/b'), [])
  t.same(templateParams('/a/{_x1}/{B}'), ['_x1', 'B'])
  t.same(templateParams('/a/{b}c/x{d}/{1e}/{f-g}/{}'), [], 'part of a segment, a leading digit, a dash or an empty name is no parameter')
  t.same(templateParams('/a/{x}/{x}'), ['x', 'x'], 'repeats are reported as they are (the mapping loader refuses them)')
})

t.test('compileTemplate', async (t) => {
  t.same(compileTemplate('GET /accounts/{accountId}/balances'), {
    key: 'GET /accounts/{accountId}/balances',
    method: 'GET',
    path: '/accounts/{accountId}/balances',
    parts: [{ literal: 'accounts' }, { param: 'accountId' }, { literal: 'balances' }],
    subtree: false,
  })
  t.same(compileTemplate('* /collateral/**'), { key: '* /collateral/**', method: '*', path: '/collateral/**', parts: [{ literal: 'collateral' }], subtree: true }, 'a subtree with any method')
  t.same(compileTemplate('* /accounts/{accountId}/collateral/**').parts, [{ literal: 'accounts' }, { param: 'accountId' }, { literal: 'collateral' }])
  t.same(compileTemplate('GET /**'), { key: 'GET /**', method: 'GET', path: '/**', parts: [], subtree: true }, 'the whole tree')
  t.same(compileTemplate('GET /').parts, [], 'the root has no segments')
  t.same(compileTemplate('GET /a/').parts, [{ literal: 'a' }], 'a trailing slash adds no segment')
  t.same(compileTemplate('get /a/{b}').method, 'GET')
  t.same(compileTemplate('GET /a/{b}x').parts, [{ literal: 'a' }, { literal: '{b}x' }], 'a brace inside a segment is a literal')
  t.equal(compileTemplate('GET /a/**/b').subtree, false, '/** only counts at the end')
})

t.test('RouteTable.match: literal beats parameter beats subtree, position by position', async (t) => {
  const table = new RouteTable([
    'POST /accounts/{accountId}/transfers/withdrawals/{id}',
    'POST /accounts/{accountId}/transfers/withdrawals/blockchain',
    'GET /accounts/{accountId}/transfers/withdrawals/{id}',
    'GET /accounts/{accountId}/collateral/**',
    'GET /accounts/{accountId}/collateral/{collateralId}',
    'GET /accounts/{accountId}',
    'GET /accounts/main',
    'GET /accounts',
  ])
  const key = (method: string, path: string) => table.match(method, path.split('/').slice(1))?.template.key
  t.equal(key('POST', '/accounts/a1/transfers/withdrawals/blockchain'), 'POST /accounts/{accountId}/transfers/withdrawals/blockchain', 'the literal wins whichever was listed first')
  t.equal(key('POST', '/accounts/a1/transfers/withdrawals/w-7'), 'POST /accounts/{accountId}/transfers/withdrawals/{id}')
  t.equal(key('GET', '/accounts/a1/transfers/withdrawals/blockchain'), 'GET /accounts/{accountId}/transfers/withdrawals/{id}', 'a literal of another method does not count')
  t.equal(key('GET', '/accounts/main'), 'GET /accounts/main')
  t.equal(key('GET', '/accounts/other'), 'GET /accounts/{accountId}')
  t.equal(key('GET', '/accounts/a1/collateral/c1'), 'GET /accounts/{accountId}/collateral/{collateralId}', 'a parameter beats the subtree')
  t.equal(key('GET', '/accounts/a1/collateral/c1/history'), 'GET /accounts/{accountId}/collateral/**', 'the subtree takes what is below')
  t.equal(key('GET', '/accounts/a1/collateral'), 'GET /accounts/{accountId}/collateral/**', 'and the path itself')
  t.equal(key('GET', '/accounts'), 'GET /accounts')
  t.equal(table.match('GET', []), undefined, 'no match: undefined')
  t.equal(key('GET', '/accounts/a1/balances'), undefined)
  t.equal(key('DELETE', '/accounts/a1'), undefined, 'no template for the method')
  t.equal(key('get', '/accounts'), undefined, 'the method is matched as given (callers pass it upper-case)')
})

t.test('RouteTable.match: a leftmost literal beats a leftmost parameter, whatever follows', async (t) => {
  const table = new RouteTable(['GET /{x}/b/c', 'GET /a/{y}/{z}'])
  t.equal(table.match('GET', ['a', 'b', 'c'])?.template.key, 'GET /a/{y}/{z}')
  t.same(table.match('GET', ['a', 'b', 'c'])?.params, { y: 'b', z: 'c' })
  t.equal(table.match('GET', ['z', 'b', 'c'])?.template.key, 'GET /{x}/b/c')
})

t.test('RouteTable.match: a method-specific template beats `*` when the paths rank the same, not before', async (t) => {
  const table = new RouteTable(['* /collateral/{id}', 'POST /collateral/{id}', '* /collateral/settlements', '* /misc/**'])
  t.equal(table.match('POST', ['collateral', 'c1'])?.template.key, 'POST /collateral/{id}')
  t.equal(table.match('GET', ['collateral', 'c1'])?.template.key, '* /collateral/{id}', '`*` takes any other method')
  t.equal(table.match('POST', ['collateral', 'settlements'])?.template.key, '* /collateral/settlements', 'a more specific path wins over the method')
  t.equal(table.match('PATCH', ['misc'])?.template.key, '* /misc/**')
  const reversed = new RouteTable(['POST /collateral/{id}', '* /collateral/{id}'])
  t.equal(reversed.match('POST', ['collateral', 'c1'])?.template.key, 'POST /collateral/{id}', 'in either order')
})

t.test('RouteTable.match binds decoded segments as parameters', async (t) => {
  const table = new RouteTable(['GET /accounts/{accountId}/assets/{assetId}', 'GET /files/**'])
  const match = table.match('GET', ['accounts', 'a b/c?d', 'assets', 'ünï%2F'])
  t.same(match?.params, { accountId: 'a b/c?d', assetId: 'ünï%2F' }, 'the values exactly as decoded, nothing re-encoded')
  t.same(table.match('GET', ['files', 'x', 'y'])?.params, {}, 'a subtree binds nothing')
  t.equal(table.match('GET', ['accounts', 'a', 'assets'])?.template, undefined, 'one segment short')
  t.equal(table.match('GET', ['accounts', 'a', 'assets', 'b', 'c']), undefined, 'one segment too many (no subtree)')
})

t.test('RouteTable.match: an exact template beats a subtree on the path itself, in either order', async (t) => {
  // /a/** matches /a, but at every position /a is as specific; `/**` is the least specific, so /a must win.
  for (const keys of [['GET /collateral', 'GET /collateral/**'], ['GET /collateral/**', 'GET /collateral']]) {
    t.equal(new RouteTable(keys).match('GET', ['collateral'])?.template.key, 'GET /collateral', `listed as ${keys.join(', ')}`)
  }
})

/** A template as the property below generates it: literals from a small alphabet, so that templates overlap. */
const segment = fc.constantFrom('a', 'b', 'c')
const templateArb = fc
  .record({
    method: fc.constantFrom('GET', 'POST', '*'),
    parts: fc.array(fc.oneof(segment, fc.constant(null)), { maxLength: 4 }),
    subtree: fc.boolean(),
  })
  .map(({ method, parts, subtree }) => {
    const path = '/' + parts.map((p, i) => p ?? `{p${i}}`).join('/')
    return `${method} ${subtree ? (parts.length ? `${path}/**` : '/**') : path}`
  })

/** The specification, written independently: which templates match, and which of them are the most specific. */
function oracle(keys: string[], method: string, segments: string[]) {
  const shape = (key: string) => {
    const space = key.indexOf(' ')
    const path = key.slice(space + 1)
    const subtree = path.endsWith('/**')
    const parts = (subtree ? path.slice(0, -3) : path).split('/').filter(Boolean)
    return { key, method: key.slice(0, space), parts, subtree }
  }
  const matching = keys.map(shape).filter((s) => {
    if (s.method !== method && s.method !== '*') return false
    if (s.subtree ? segments.length < s.parts.length : segments.length !== s.parts.length) return false
    return s.parts.every((p, i) => p.startsWith('{') || p === segments[i])
  })
  const vector = (s: ReturnType<typeof shape>) => [...segments.map((_, i) => (i >= s.parts.length ? 2 : s.parts[i]?.startsWith('{') ? 1 : 0)), s.method === '*' ? 1 : 0]
  const compare = (a: number[], b: number[]) => a.findIndex((v, i) => v !== b[i])
  let best: Array<ReturnType<typeof shape>> = []
  for (const s of matching) {
    const first = best[0]
    if (first === undefined) best = [s]
    else {
      const i = compare(vector(s), vector(first))
      if (i === -1) best.push(s)
      else if ((vector(s)[i] as number) < (vector(first)[i] as number)) best = [s]
    }
  }
  return { best, params: (key: string) => Object.fromEntries(shape(key).parts.flatMap((p, i) => (p.startsWith('{') ? [[p.slice(1, -1), segments[i]]] : []))) }
}

t.test('property: match finds a most specific matching template, with its parameters, or undefined when none matches', async (t) => {
  fc.assert(
    fc.property(fc.array(templateArb, { minLength: 1, maxLength: 8 }), fc.constantFrom('GET', 'POST', 'PUT'), fc.array(segment, { maxLength: 5 }), (keys, method, segments) => {
      const match = new RouteTable(keys).match(method, segments)
      const { best, params } = oracle(keys, method, segments)
      if (best.length === 0) return match === undefined
      if (match === undefined) return false
      return best.some((s) => s.key === match.template.key) && JSON.stringify(match.params) === JSON.stringify(params(match.template.key))
    }),
    { numRuns: 2000 },
  )
  t.pass('2000 random tables')
})

t.test('property: the order in which templates are listed does not change the match (templates of distinct shapes)', async (t) => {
  const shapeOf = (key: string) => key.replace(/\{p\d+\}/g, '{}')
  fc.assert(
    fc.property(
      fc.uniqueArray(templateArb, { minLength: 1, maxLength: 8, selector: shapeOf }),
      fc.constantFrom('GET', 'POST', 'PUT'),
      fc.array(segment, { maxLength: 5 }),
      (keys, method, segments) => new RouteTable(keys).match(method, segments)?.template.key === new RouteTable([...keys].reverse()).match(method, segments)?.template.key,
    ),
    { numRuns: 2000 },
  )
  t.pass('2000 random tables, listed both ways')
})
