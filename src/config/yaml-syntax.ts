import type { LineCounter, YAMLError } from 'yaml'

/**
 * YAML syntax errors in plain words, placed where the slip is. The parser's
 * first error is the slip; those after it are usually its echoes, so the
 * caller reports one (duplicate keys, which never cascade, each). The parser
 * places some errors at the start of a line or where it gave up; these are
 * moved to the first character of the line, or to the bracket or quote left
 * open, found by a scan of the text that knows quotes, comments and flow
 * collections (nothing else of YAML is needed to place them).
 */
export interface SyntaxProblem {
  line: number
  col: number
  message: string
}

export function explainSyntaxError(text: string, error: YAMLError, lines: LineCounter): SyntaxProblem {
  const at = (offset: number, message: string): SyntaxProblem => ({ ...lines.linePos(offset), message })
  const offset = error.pos[0]
  const first = error.message.split('\n')[0] ?? error.message
  const open = openAt(text, offset)
  switch (error.code) {
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
      if (/Flow (map|sequence)/.test(first) && open.flow) {
        const close = open.flow.char === '{' ? '}' : ']'
        return at(open.flow.offset, `this ${open.flow.char} is never closed: add the ${close} that ends it (a ${open.flow.char} … ${close} that spans lines ends before a line indented like its key)`)
      }
      if (/quote/.test(first) && open.quote) return at(open.quote.offset, `this quoted text is never closed: add the closing ${open.quote.char}`)
      if (/same column|without - indicator/.test(first)) return indentation(text, offset, lines)
      break
    case 'UNEXPECTED_TOKEN':
    case 'BLOCK_IN_FLOW':
      if (open.flow) {
        return at(
          offset,
          `inside ${open.flow.char} … ${open.flow.char === '{' ? '}' : ']'} (opened at line ${lines.linePos(open.flow.offset).line}), a value holding [ ] { } , or ": " must be quoted, e.g. "$body.list[0]"; or write the mapping in block style, one key per line`,
        )
      }
      break
    case 'TAB_AS_INDENT':
      return at(offset, 'YAML indents with spaces, not tabs: replace the tab at the start of this line')
    case 'DUPLICATE_KEY':
      return at(offset, `the key ${JSON.stringify(keyAt(text, offset))} appears twice in the same mapping: keep one`)
    case 'MULTILINE_IMPLICIT_KEY':
      return at(offset, 'a key is followed by ": " and its value (route: GET /accounts); this line has none, or the next line is indented as if it continued it')
    case 'BAD_SCALAR_START':
      return at(offset, `a plain value cannot start with ${JSON.stringify(text[offset])}: quote it`)
  }
  return at(offset, first)
}

/** The key written at `offset`: up to its colon. */
function keyAt(text: string, offset: number): string {
  return /^["']?([^"':\n]*)/.exec(text.slice(offset))?.[1]?.trim() ?? ''
}

/** A line whose indentation fits none of the levels above it: say which levels those are. */
function indentation(text: string, offset: number, lines: LineCounter): SyntaxProblem {
  const { line } = lines.linePos(offset)
  const all = text.split('\n')
  const column = (l: string) => l.length - l.trimStart().length + 1
  const content = (l: string) => column(l) + (/^\s*- /.test(l) ? 2 : 0)
  const current = column(all[line - 1] ?? '')
  // The levels the line could belong to: the line above, then each less indented line that holds it.
  const levels: Array<{ col: number; key: string }> = []
  for (let i = line - 2; i >= 0 && levels.length < 2; i--) {
    const l = all[i] as string
    if (l.trim() === '' || l.trim().startsWith('#')) continue
    const col = content(l)
    if (levels.length === 0 || col < (levels.at(-1) as { col: number }).col) levels.push({ col, key: keyAt(l.trimStart().replace(/^- /, ''), 0) })
  }
  const described = levels.map((level) => `column ${level.col} (as ${JSON.stringify(level.key)})`).join(' or ')
  return {
    line,
    col: current,
    message: `this line starts at column ${current}, but ${levels.length ? `the keys it can belong with start at ${described}` : 'nothing above it does'}: YAML nests by indentation, so line it up with the keys it belongs with`,
  }
}

interface Opening {
  offset: number
  char: string
}

/** The innermost flow collection and the quoted text still open at `end`. */
function openAt(text: string, end: number): { flow?: Opening; quote?: Opening } {
  const flows: Opening[] = []
  let quote: Opening | undefined
  let comment = false
  // A bracket opens a flow collection only where a value may start (or inside one): $body.list[0] in block style is text.
  let valueStart = true
  for (let i = 0; i < end && i < text.length; i++) {
    const c = text[i] as string
    if (c === '\n') {
      comment = false
      valueStart = true
      continue
    }
    if (comment) continue
    if (quote) {
      if (quote.char === '"' && c === '\\') i++
      else if (c === quote.char) {
        if (quote.char === "'" && text[i + 1] === "'") i++
        else quote = undefined
      }
      continue
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1] as string))) {
      comment = true
      continue
    }
    if ((c === '"' || c === "'") && valueStart) {
      quote = { offset: i, char: c }
      continue
    }
    if ((c === '{' || c === '[') && (valueStart || flows.length > 0)) flows.push({ offset: i, char: c })
    else if ((c === '}' || c === ']') && flows.length > 0) flows.pop()
    if (c === ':' || c === ',' || c === '{' || c === '[' || c === '-') valueStart = true
    else if (c !== ' ') valueStart = false
  }
  return { ...(flows.length ? { flow: flows.at(-1) as Opening } : {}), ...(quote ? { quote } : {}) }
}
