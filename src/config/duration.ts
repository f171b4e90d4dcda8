/** Durations in config: milliseconds, or strings such as "300ms", "5s", "5m", "72h", "3d". */
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export function parseDuration(value: number | string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs
  if (typeof value === 'number') return value
  const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(value) ?? []
  return Number(amount) * (UNITS[unit as string] as number)
}
