import { ERRORS } from '../errors.js'
import { COUNTER_BY_KIND } from '../metrics.js'

/** The error catalogue as the README's Markdown table: every answer the gateway gives itself. */
export function errorTable(): string {
  const cell = (value: string | undefined) => (value ? `\`${value}\`` : '')
  const rows = Object.values(ERRORS).map((e) => {
    const spec = e as { propertyName?: string; requestPart?: string }
    return `| ${cell(e.code)} | ${e.message} | ${e.status} | ${cell(e.errorType)} | ${cell(spec.propertyName)} | ${cell(spec.requestPart)} | ${cell(`${COUNTER_BY_KIND[e.kind]}{reason="${e.reason}"}`)} |`
  })
  return ['| code | error | status | errorType | propertyName | requestPart | counted as |', '| --- | --- | --- | --- | --- | --- | --- |', ...rows].join('\n')
}

/** `nlgw errors`: prints the table. */
export function errorsCommand(): number {
  process.stdout.write(errorTable() + '\n')
  return 0
}
