import { readFileSync } from 'node:fs'
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import { ConfigError, dotted, type Problem } from './problems.js'

/**
 * How far aliases may expand (the yaml library's guard against "billion laughs"
 * documents; its default of 100 is too low for mapping files whose fragments use
 * other fragments, and these files are the operator's own).
 */
const MAX_ALIAS_COUNT = 10_000

/**
 * A parsed YAML (or JSON) file that remembers where every value came from, so
 * that later checks can point at `file:line:col` for any path in it.
 */
export class SourceDocument {
  private constructor(
    readonly file: string,
    readonly value: unknown,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  static read(file: string): SourceDocument {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new ConfigError([{ file, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }])
    }
    return SourceDocument.parse(file, text)
  }

  static parse(file: string, text: string): SourceDocument {
    const lines = new LineCounter()
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
    if (doc.errors.length > 0) {
      throw new ConfigError(
        doc.errors.map((e) => {
          const { line, col } = lines.linePos(e.pos[0])
          return { file, line, col, message: e.message.split('\n')[0] ?? e.message }
        }),
      )
    }
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (err) {
      // An alias to an undefined anchor, or aliases nested past the limit.
      if (!(err instanceof ReferenceError)) throw err
      const limit = err.message.startsWith('Excessive') ? ` (aliases are limited to ${MAX_ALIAS_COUNT} expansions per anchor)` : ''
      throw new ConfigError([{ file, message: `${err.message}${limit}` }])
    }
    return new SourceDocument(file, value, doc, lines)
  }

  /**
   * A problem at `path`, placed at the deepest node of the path that exists;
   * with `atKey`, at the last key itself rather than its value (for misspelt keys).
   */
  problem(path: ReadonlyArray<string | number>, message: string, { atKey = false } = {}): Problem {
    const node = this.deepestNode(path, atKey)
    const offset = node?.range?.[0]
    const pos = offset === undefined ? undefined : this.lines.linePos(offset)
    return { file: this.file, ...(pos ? { line: pos.line, col: pos.col } : {}), ...(path.length ? { path: dotted(path) } : {}), message }
  }

  private deepestNode(path: ReadonlyArray<string | number>, atKey: boolean): Node | undefined {
    let node: unknown = this.doc.contents
    let found = node as Node | undefined
    for (const [i, key] of path.entries()) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key)
        if (!pair) break
        node = atKey && i === path.length - 1 ? pair.key : (pair.value ?? pair.key)
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key]
      } else break
      if (node === undefined || node === null) break
      found = node as Node
    }
    return found
  }
}
