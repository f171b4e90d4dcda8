import { readFileSync } from 'node:fs'
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node } from 'yaml'
import { ConfigError, dotted, suggest, type Problem } from './problems.js'
import { explainSyntaxError } from './yaml-syntax.js'

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
      // One slip, one problem: what follows the first error is mostly its echo. Duplicate keys never cascade.
      const [first] = doc.errors
      const reported = [first, ...doc.errors.filter((e) => e !== first && e.code === 'DUPLICATE_KEY')]
      throw new ConfigError(reported.map((e) => ({ file, ...explainSyntaxError(text, e as NonNullable<typeof first>, lines) })))
    }
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (err) {
      // An alias to an undefined anchor, or aliases nested past the limit.
      if (!(err instanceof ReferenceError)) throw err
      const limit = err.message.startsWith('Excessive') ? ` (aliases are limited to ${MAX_ALIAS_COUNT} expansions per anchor)` : ''
      throw new ConfigError([unresolvedAlias(file, doc, lines) ?? { file, message: `${err.message}${limit}` }])
    }
    return new SourceDocument(file, value, doc, lines)
  }

  /**
   * A problem at `path`, placed at the deepest node of the path that exists;
   * with `atKey`, at the last key itself rather than its value (for misspelt keys).
   * Inside a fragment (reached through an alias) the problem is placed in the
   * fragment, with the line of the use, so that each mistake is reported once.
   */
  problem(path: ReadonlyArray<string | number>, message: string, { atKey = false } = {}): Problem {
    const { node, shown, use } = this.locate(path, atKey)
    const offset = node?.range?.[0]
    const pos = offset === undefined ? undefined : this.lines.linePos(offset)
    return {
      file: this.file,
      ...(pos ? { line: pos.line, col: pos.col } : {}),
      ...(shown.length ? { path: dotted(shown) } : {}),
      message,
      ...(use !== undefined ? { uses: [use] } : {}),
    }
  }

  private locate(path: ReadonlyArray<string | number>, atKey: boolean): { node?: Node; shown: Array<string | number>; use?: number } {
    let node: unknown = this.doc.contents
    let found = node as Node | undefined
    let shown: Array<string | number> = []
    let use: number | undefined
    // Follows an alias into its anchor: the place shown is then the fragment's own.
    const enter = () => {
      if (!isAlias(node)) return
      const target = this.target(node)
      if (!target) return
      use ??= this.lines.linePos(node.range?.[0] ?? 0).line
      shown = [...(this.pathOf(target) ?? shown)]
      node = found = target
    }
    let consumed = 0
    for (const [i, key] of path.entries()) {
      enter()
      if (isMap(node)) {
        // Keys compare as text: a `$switch` case 10 is the key "10" of the template.
        const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value) === String(key))
        if (!pair) break
        node = atKey && i === path.length - 1 ? pair.key : (pair.value ?? pair.key)
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key]
      } else break
      if (node === undefined || node === null) break
      found = node as Node
      shown.push(key)
      consumed++
    }
    if (!atKey && consumed === path.length) enter()
    return { ...(found ? { node: found } : {}), shown: [...shown, ...path.slice(consumed)], ...(use !== undefined ? { use } : {}) }
  }

  private index?: { paths: Map<unknown, Array<string | number>>; targets: Map<Alias, Node> }

  /**
   * One walk of the document, in order: where each node is written, and the
   * anchor each alias refers to (the nearest one before it). Alias.resolve would
   * search the whole document for each alias.
   */
  private indexed(): NonNullable<SourceDocument['index']> {
    if (this.index) return this.index
    const paths = new Map<unknown, Array<string | number>>()
    const targets = new Map<Alias, Node>()
    const anchors = new Map<string, Node>()
    const walk = (node: unknown, at: Array<string | number>) => {
      if (isAlias(node)) {
        const target = anchors.get(node.source)
        if (target) targets.set(node, target)
        return
      }
      paths.set(node, at)
      if ((isMap(node) || isSeq(node) || isScalar(node)) && node.anchor) anchors.set(node.anchor, node)
      if (isMap(node)) for (const pair of node.items) walk(pair.value, [...at, String((pair.key as { value?: unknown } | null)?.value)])
      else if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...at, i]))
    }
    walk(this.doc.contents, [])
    return (this.index = { paths, targets })
  }

  private target(alias: Alias): Node | undefined {
    return this.indexed().targets.get(alias)
  }

  /** Where a node is written in the document (aliases not followed). */
  private pathOf(target: unknown): Array<string | number> | undefined {
    return this.indexed().paths.get(target)
  }
}

/** `*name` with no `&name` before it: the alias's place, and the nearest anchor's name. */
function unresolvedAlias(file: string, doc: Document, lines: LineCounter): Problem | undefined {
  const anchors: string[] = []
  let found: Problem | undefined
  visit(doc, {
    Node(_key, node) {
      if (found) return visit.BREAK
      if (isAlias(node)) {
        if (anchors.includes(node.source)) return undefined
        const hint = suggest(node.source, anchors)
        found = {
          file,
          ...lines.linePos(node.range?.[0] ?? 0),
          message: `*${node.source} refers to no anchor: define &${node.source} before it in this file${hint ? ` (did you mean *${hint}?)` : ''}`,
        }
        return visit.BREAK
      }
      if ((isMap(node) || isSeq(node) || isScalar(node)) && node.anchor) anchors.push(node.anchor)
      return undefined
    },
  })
  return found
}
