import fc from 'fast-check'

/**
 * Random spellings of one canonical request target, for property tests of
 * src/request/target.ts. Shares no code with the gateway: the canonical
 * spelling is built with encodeURIComponent, and every edit knows by
 * construction what it does to the target, so the expected verdict comes
 * from the edits, not from the code under test.
 *
 * Verdicts:
 * - `same`:   a spelling the gateway must accept and read exactly as the
 *             canonical one (hex case of an escape, a sub-delimiter escaped
 *             or written literally, a query added);
 * - `refuse`: a spelling some other component (a backend that removes dot
 *             segments, merges slashes, maps `\` to `/`, strips `;params`,
 *             decodes `%2F` or unreserved escapes, accepts absolute-form…)
 *             may read as the canonical target: the gateway must refuse it;
 * - `case`:   a literal route segment in another letter case: a different
 *             target for the gateway (paths are case-sensitive), the same one
 *             for a case-insensitive backend.
 */
export type Verdict = 'same' | 'refuse' | 'case'

export type Token =
  | { kind: 'sep' }
  /** One character as written; `keyword` when it belongs to a literal segment of the route template. */
  | { kind: 'lit'; text: string; keyword: boolean; locked?: boolean }
  /** One character as %XX escapes of its UTF-8 bytes; `lower` per escape. */
  | { kind: 'esc'; ch: string; bytes: number[]; lower: boolean[] }
  /** Inserted text written as it is. */
  | { kind: 'raw'; text: string }

export interface Spelling {
  prefix: string
  base: string
  tokens: Token[]
  query: string
}

export const EDIT_KINDS = {
  // accepted, read as the canonical target
  'encode-reserved': 'same',
  'hex-case': 'same',
  'decode-allowed': 'same',
  query: 'same',
  // refused
  'encode-unreserved': 'refuse',
  'decode-disallowed': 'refuse',
  dot: 'refuse',
  dotdot: 'refuse',
  'double-slash': 'refuse',
  'trailing-slash': 'refuse',
  backslash: 'refuse',
  'encoded-backslash': 'refuse',
  'encoded-slash': 'refuse',
  semicolon: 'refuse',
  base: 'refuse',
  absolute: 'refuse',
  // a different target for the gateway
  case: 'case',
} as const satisfies Record<string, Verdict>
export type EditKind = keyof typeof EDIT_KINDS

export interface Edit {
  kind: EditKind
  at: number
  pick: number
  upper: boolean
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/
/** What a path segment may hold literally besides unreserved characters (RFC 3986 pchar without `;`). */
const LITERAL_OK = new Set([...'!$&\'()*+,=:@'])
/** Decoding these changes where the path, the query or an escape ends: another target, not another spelling. */
const STRUCTURAL = new Set(['/', '?', '#', '%'])

export const BASE_VARIANTS = ['/v2x', '/V2', '', '//v2', '/v2/', '/%76%32', '/v%32', '/v2;x', '/./v2', '/v2/.', '/v2/..', '\\v2', '/v2%2F']
export const ABSOLUTE_PREFIXES = ['http://127.0.0.1', 'https://gateway.example:443', 'HTTP://x', '//host']
const INSERTED_SEGMENTS = ['acc-2', 'x', 'accounts', 'collateral', '%41', 'a%20b']
const PARAMS = ['', 'x', 'jsessionid=1', 'acc-2', '/..']
export const QUERIES = ['limit=2', 'x=%2F..%2Facc-2', 'a=/../acc-2&b=%3B', 'q=caf%C3%A9+x&accountId=acc-2', 'a', 'startingAfter=..%2F']

function hex(byte: number, lower: boolean): string {
  const h = byte.toString(16).toUpperCase().padStart(2, '0')
  return '%' + (lower ? h.toLowerCase() : h)
}

/** The canonical spelling of decoded segments, as tokens; `keywords[i]` marks literal route segments. */
export function canonicalTokens(segments: readonly string[], keywords: readonly boolean[]): Token[] {
  const tokens: Token[] = []
  segments.forEach((segment, i) => {
    tokens.push({ kind: 'sep' })
    for (const ch of segment) {
      const encoded = encodeURIComponent(ch)
      if (encoded === ch) tokens.push({ kind: 'lit', text: ch, keyword: keywords[i] ?? false })
      else {
        const bytes = [...Buffer.from(ch, 'utf8')]
        tokens.push({ kind: 'esc', ch, bytes, lower: bytes.map(() => false) })
      }
    }
  })
  return tokens
}

export function render(s: Spelling): string {
  let path = ''
  for (const token of s.tokens) {
    if (token.kind === 'sep') path += '/'
    else if (token.kind === 'lit' || token.kind === 'raw') path += token.text
    else path += token.bytes.map((b, i) => hex(b, token.lower[i] ?? false)).join('')
  }
  return `${s.prefix}${s.base}${path}${s.query === '' ? '' : `?${s.query}`}`
}

function nth<T>(items: T[], at: number): T | undefined {
  return items.length === 0 ? undefined : items[at % items.length]
}

/** Indexes of tokens satisfying `test`. */
function indexes(tokens: Token[], test: (token: Token) => boolean): number[] {
  return tokens.flatMap((token, i) => (test(token) ? [i] : []))
}

/** Applies one edit in place; returns a description, or undefined when the spelling offers nothing to edit. */
export function applyEdit(s: Spelling, edit: Edit): string | undefined {
  const { tokens } = s
  switch (edit.kind) {
    case 'encode-unreserved':
    case 'encode-reserved': {
      const wantUnreserved = edit.kind === 'encode-unreserved'
      // a character another edit wrote literally to be refused stays as it is: re-encoding it would undo that edit
      const i = nth(indexes(tokens, (t) => t.kind === 'lit' && !t.locked && UNRESERVED.test(t.text) === wantUnreserved), edit.at)
      if (i === undefined) return undefined
      const token = tokens[i] as Extract<Token, { kind: 'lit' }>
      tokens[i] = { kind: 'esc', ch: token.text, bytes: [token.text.charCodeAt(0)], lower: [!edit.upper] }
      return `${edit.kind} ${JSON.stringify(token.text)}`
    }
    case 'hex-case': {
      const i = nth(indexes(tokens, (t) => t.kind === 'esc' && t.bytes.some((b) => /[a-f]/i.test(b.toString(16)))), edit.at)
      if (i === undefined) return undefined
      const token = tokens[i] as Extract<Token, { kind: 'esc' }>
      token.lower = token.lower.map((l, j) => (j === edit.pick % token.lower.length ? !l : l))
      return `hex-case ${JSON.stringify(token.ch)}`
    }
    case 'decode-allowed':
    case 'decode-disallowed': {
      const allowed = edit.kind === 'decode-allowed'
      const i = nth(indexes(tokens, (t) => t.kind === 'esc' && !STRUCTURAL.has(t.ch) && LITERAL_OK.has(t.ch) === allowed && !UNRESERVED.test(t.ch)), edit.at)
      if (i === undefined) return undefined
      const token = tokens[i] as Extract<Token, { kind: 'esc' }>
      tokens[i] = { kind: 'lit', text: token.ch, keyword: false, locked: !allowed }
      return `${edit.kind} ${JSON.stringify(token.ch)}`
    }
    case 'case': {
      const i = nth(indexes(tokens, (t) => t.kind === 'lit' && t.keyword && t.text.toLowerCase() !== t.text.toUpperCase()), edit.at)
      if (i === undefined) return undefined
      const token = tokens[i] as Extract<Token, { kind: 'lit' }>
      const flipped = token.text === token.text.toLowerCase() ? token.text.toUpperCase() : token.text.toLowerCase()
      tokens[i] = { ...token, text: flipped }
      return `case ${token.text}→${flipped}`
    }
    case 'dot':
    case 'dotdot': {
      const i = nth(indexes(tokens, (t) => t.kind === 'sep'), edit.at)
      if (i === undefined) return undefined
      // x/../ and ./ are removed by RFC 3986 dot-segment removal: the same target to a normalising backend
      const inserted = edit.kind === 'dot' ? '.' : `${INSERTED_SEGMENTS[edit.pick % INSERTED_SEGMENTS.length]}/..`
      tokens.splice(i, 0, { kind: 'sep' }, { kind: 'raw', text: inserted })
      return `${edit.kind} /${inserted}`
    }
    case 'double-slash': {
      const i = nth(indexes(tokens, (t) => t.kind === 'sep'), edit.at)
      if (i === undefined) return undefined
      tokens.splice(i, 0, { kind: 'sep' })
      return 'double-slash'
    }
    case 'trailing-slash':
      tokens.push({ kind: 'sep' })
      return 'trailing-slash'
    case 'backslash':
    case 'encoded-backslash':
    case 'encoded-slash': {
      const i = nth(indexes(tokens, (t) => t.kind === 'sep'), edit.at)
      if (i === undefined) return undefined
      const text = edit.kind === 'backslash' ? '\\' : edit.kind === 'encoded-backslash' ? (edit.upper ? '%5C' : '%5c') : edit.upper ? '%2F' : '%2f'
      tokens[i] = { kind: 'raw', text }
      return `${edit.kind} ${text}`
    }
    case 'semicolon': {
      // before a separator or at the end: the path parameter of the segment before it
      const ends = [...indexes(tokens, (t) => t.kind === 'sep').slice(1), tokens.length]
      const i = nth(ends, edit.at) as number
      const text = `;${PARAMS[edit.pick % PARAMS.length]}`
      tokens.splice(i, 0, { kind: 'raw', text })
      return `semicolon ${text}`
    }
    case 'base':
      s.base = BASE_VARIANTS[edit.pick % BASE_VARIANTS.length] as string
      return `base ${JSON.stringify(s.base)}`
    case 'absolute':
      s.prefix = ABSOLUTE_PREFIXES[edit.pick % ABSOLUTE_PREFIXES.length] as string
      return `absolute ${s.prefix}`
    case 'query':
      s.query = QUERIES[edit.pick % QUERIES.length] as string
      return `query ?${s.query}`
  }
}

export interface Spelled {
  raw: string
  verdict: Verdict
  /** What each applied edit did, for counterexamples. */
  applied: string[]
  kinds: EditKind[]
}

/** Applies the edits to the canonical spelling; the verdict follows from the edits that applied. */
export function spell(basePath: string, tokens: Token[], edits: readonly Edit[]): Spelled {
  const s: Spelling = { prefix: '', base: basePath, tokens: tokens.map((t) => (t.kind === 'esc' ? { ...t, lower: [...t.lower] } : { ...t })), query: '' }
  const applied: string[] = []
  const kinds: EditKind[] = []
  for (const edit of edits) {
    const what = applyEdit(s, edit)
    if (what === undefined) continue
    applied.push(what)
    kinds.push(edit.kind)
  }
  const verdicts = kinds.map((k) => EDIT_KINDS[k])
  const verdict: Verdict = verdicts.includes('refuse') ? 'refuse' : verdicts.includes('case') ? 'case' : 'same'
  return { raw: render(s), verdict, applied, kinds }
}

const editOf = (kinds: EditKind[]): fc.Arbitrary<Edit> => fc.record({ kind: fc.constantFrom(...kinds), at: fc.nat(), pick: fc.nat(), upper: fc.boolean() })
const ALL_KINDS = Object.keys(EDIT_KINDS) as EditKind[]

/**
 * Zero to four edits of any kind (zero: the canonical spelling itself, which
 * must be accepted), or one to four that keep the target, so accepted
 * spellings other than the canonical one are common too.
 */
export const editsArb: fc.Arbitrary<Edit[]> = fc.oneof(
  { weight: 2, arbitrary: fc.array(editOf(ALL_KINDS), { minLength: 0, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.array(editOf(ALL_KINDS.filter((k) => EDIT_KINDS[k] === 'same')), { minLength: 1, maxLength: 4 }) },
)

/** Characters ids are made of: alphanumerics, every ASCII delimiter, `%` and escape-looking text, dots, non-ASCII and astral. */
const INTERESTING = [
  ' ', '%', ':', '@', '.', '-', '_', '~', '!', '$', '&', "'", '(', ')', '*', '+', ',', ';', '=', '/', '\\', '?', '#', '[', ']', '"', '<', '>', '^', '`', '{', '|', '}',
  'é', 'ß', 'İ', 'ı', 'K', '東', '🚀', '\u00a0', '\u0085', '\u200b', '\ufeff', '\u2215', '\uff0f', '%2F', '%61', '%25', '..', './', '%zz', '%',
]
const ALNUM = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789']

export function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}

const idUnit = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ALNUM) },
  { weight: 3, arbitrary: fc.constantFrom(...INTERESTING) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
)

/** A path parameter value: never empty, never a dot segment, never a control character (all refused however spelled). */
export function idArb(exclude: ReadonlySet<string>): fc.Arbitrary<string> {
  return fc
    .oneof(
      { weight: 1, arbitrary: fc.constantFrom('acc-1', 'acc-2', 'A1234', 'c1.c2.c3', 'a b', 'sub/1', '%2e%2e', '...', 'é') },
      { weight: 4, arbitrary: fc.string({ unit: idUnit, minLength: 1, maxLength: 10 }) },
    )
    // A leading U+FEFF is left out: the gateway drops it (reported finding, pinned as a todo in target-property.test.ts).
    .filter((id) => id !== '.' && id !== '..' && !hasControl(id) && !exclude.has(id) && !id.startsWith('\ufeff'))
}
