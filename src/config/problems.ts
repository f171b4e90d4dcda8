/**
 * Configuration and mapping mistakes, reported all at once with their place:
 * `file:line:col: path: message`. Start-up and `nlgw check` print the same list.
 */
export interface Problem {
  file: string
  line?: number
  col?: number
  /** Dotted path inside the document, e.g. `auth.scheme.algorithm` or `routes[3].upstream`. */
  path?: string
  message: string
  /** For a problem inside a fragment (a YAML anchor): the lines where it is used with this problem. */
  uses?: number[]
}

const SHOWN_USES = 3

export function formatProblem(p: Problem): string {
  const place = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.col ?? 1}`
  const uses = p.uses ?? []
  const more = uses.length > SHOWN_USES ? ` and ${uses.length - SHOWN_USES} more` : ''
  const where = uses.length ? ` (used at line${uses.length > 1 ? 's' : ''} ${uses.slice(0, SHOWN_USES).join(', ')}${more})` : ''
  return `${place}: ${p.path ? `${p.path}: ` : ''}${p.message}${where}`
}

/** One problem per place and message: a mistake in a fragment is reported once, with every use that shows it. */
function merged(problems: readonly Problem[]): Problem[] {
  const byKey = new Map<string, Problem>()
  for (const p of problems) {
    const key = [p.file, p.line, p.col, p.path, p.message].join('\n')
    const seen = byKey.get(key)
    if (!seen) byKey.set(key, { ...p })
    else if (p.uses) seen.uses = [...new Set([...(seen.uses ?? []), ...p.uses])].sort((a, b) => a - b)
  }
  return [...byKey.values()]
}

export class ConfigError extends Error {
  readonly problems: Problem[]

  constructor(problems: Problem[]) {
    const unique = merged(problems)
    super(`invalid configuration:\n${unique.map((p) => `  ${formatProblem(p)}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = unique
  }
}

export function dotted(path: ReadonlyArray<string | number>): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${key}` : key), '')
}

/** The closest candidate by edit distance, for "did you mean …?" hints. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length] as number
}
