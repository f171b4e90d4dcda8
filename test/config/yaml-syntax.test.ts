import t from 'tap'
import { ConfigError, formatProblem } from '../../src/config/problems.js'
import { SourceDocument } from '../../src/config/yaml.js'

/** The problems a text gives, as `nlgw check` prints them. */
function problems(text: string): string[] {
  try {
    SourceDocument.parse('m.yaml', text)
    return []
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return err.problems.map(formatProblem)
  }
}

t.test('each YAML slip is one problem, at the slip, in plain words', async (t) => {
  const cases: Array<[string, string, string]> = [
    [
      'a key indented one space too few',
      'routes:\n  - route: GET /accounts\n    response:\n      a: 1\n     b: 2\n',
      'm.yaml:5:6: this line starts at column 6, but the keys it can belong with start at column 7 (as "a") or column 5 (as "response"): YAML nests by indentation, so line it up with the keys it belongs with',
    ],
    [
      'a { never closed',
      'routes:\n  - route: GET /accounts\n    response: { a: $body.x, b: { $decimal: $body.y, scale: 2 }\n  - route: GET /capabilities\n    response: { version: "1" }\n',
      'm.yaml:3:15: this { is never closed: add the } that ends it (a { … } that spans lines ends before a line indented like its key)',
    ],
    [
      'a [ never closed inside a { }',
      'routes:\n  - route: GET /x\n    response: { a: { b: 1 }, c: [1, 2 }\n  - route: GET /y\n',
      'm.yaml:3:33: this [ is never closed: add the ] that ends it (a [ … ] that spans lines ends before a line indented like its key)',
    ],
    [
      'a reference with an index inside { }',
      'routes:\n  - route: GET /x\n    response: { n: $body.list[$index].x, m: 2 }\n',
      'm.yaml:3:30: inside { … } (opened at line 3), a value holding [ ] { } , or ": " must be quoted, e.g. "$body.list[0]"; or write the mapping in block style, one key per line',
    ],
    ['a tab', 'routes:\n\t- route: GET /x\n', 'm.yaml:2:1: YAML indents with spaces, not tabs: replace the tab at the start of this line'],
    ['a quote never closed', 'routes:\n  - route: "GET /x\n    response: {}\n', 'm.yaml:2:12: this quoted text is never closed: add the closing "'],
    [
      'a key without its colon',
      'routes:\n  - route GET /x\n    response: 1\n',
      'm.yaml:2:5: a key is followed by ": " and its value (route: GET /accounts); this line has none, or the next line is indented as if it continued it',
    ],
    ['a reserved first character', 'routes:\n  - route: GET /x\n    response: @foo\n', 'm.yaml:3:15: a plain value cannot start with "@": quote it'],
  ]
  for (const [name, text, expected] of cases) t.same(problems(text), [expected], name)
})

t.test('duplicate keys never cascade: each is reported', async (t) => {
  t.same(problems('routes:\n  - route: GET /x\n    route: GET /y\n  - route: GET /x\n    response: 1\n    response: 2\n'), [
    'm.yaml:3:5: the key "route" appears twice in the same mapping: keep one',
    'm.yaml:6:5: the key "response" appears twice in the same mapping: keep one',
  ])
})

t.test('one slip in a long flow mapping is one problem, however much follows it', async (t) => {
  const routes = Array.from({ length: 60 }, (_, i) => `  - route: GET /r${i}\n    response: { id: $body.id, n: ${i} }`).join('\n')
  const slipped = routes.replace('response: { id: $body.id, n: 3 }', 'response: { id: $body.id, n: 3')
  t.same(problems(`routes:\n${slipped}\n`), ['m.yaml:9:15: this { is never closed: add the } that ends it (a { … } that spans lines ends before a line indented like its key)'])
})

t.test('brackets inside quotes, comments and block-style text are not taken for collections', async (t) => {
  t.same(problems('a: "{ not [ a map"\nb: $body.list[0]   # a { in a comment\nc: { d: "x]" }\n'), [])
  t.same(problems('a: "{ not [ a map"\nb: { c: 1\n'), ['m.yaml:2:4: this { is never closed: add the } that ends it (a { … } that spans lines ends before a line indented like its key)'])
})
