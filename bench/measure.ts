/** Runs `fn` in batches for about `ms` milliseconds after a warm-up; returns operations per second. */
export function opsPerSecond(fn: () => unknown, ms = 1000): number {
  const batch = 50
  const deadline = (until: number) => {
    let ops = 0
    while (performance.now() < until) {
      for (let i = 0; i < batch; i++) fn()
      ops += batch
    }
    return ops
  }
  deadline(performance.now() + ms / 5)
  const start = performance.now()
  const ops = deadline(start + ms)
  return ops / ((performance.now() - start) / 1000)
}

export interface Row {
  [column: string]: string | number
}

export function table(rows: Row[]): string {
  if (rows.length === 0) return ''
  const columns = Object.keys(rows[0] as Row)
  const cell = (v: string | number | undefined) => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2)) : (v ?? ''))
  const lines = [columns, columns.map(() => '---'), ...rows.map((r) => columns.map((c) => cell(r[c])))]
  return lines.map((l) => `| ${l.join(' | ')} |`).join('\n')
}
