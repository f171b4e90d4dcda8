import { createRequire } from 'node:module'
import type { LoggerOptions } from 'pino'

/** Never logged: secrets, signatures and API keys, wherever they might appear. */
export const REDACT = [
  'req.headers["x-fbapi-signature"]',
  'req.headers["x-fb-platform-signature"]',
  'req.headers["x-fbapi-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers["x-fbapi-signature"]',
  'headers["x-fbapi-key"]',
]

function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty')
    return true
  } catch {
    return false
  }
}

/**
 * JSON lines by default (LOG_LEVEL); human-readable with LOG_PRETTY when
 * pino-pretty is installed (a development dependency: production images log
 * JSON).
 */
export function loggerOptions({ level, pretty }: { level: string; pretty: boolean }): LoggerOptions {
  const base: LoggerOptions = { level, redact: { paths: REDACT, censor: '[redacted]' } }
  if (!pretty || !prettyAvailable()) return base
  return { ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
}
