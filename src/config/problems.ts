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
}

export function formatProblem(p: Problem): string {
  const place = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.col ?? 1}`
  return `${place}: ${p.path ? `${p.path}: ` : ''}${p.message}`
}

export class ConfigError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`)
    this.name = 'ConfigError'
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
