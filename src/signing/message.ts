/**
 * The message every Network Link signature covers (SPEC-README, "Building the
 * message to sign"): timestamp + nonce + UPPERCASE method + endpoint + body.
 *
 * `endpoint` is the request target as sent, query included, without the
 * server's base-path prefix. Pass it as bytes to sign exactly what arrived on
 * the wire; a string is taken as UTF-8. `body` is the raw body, never a
 * re-serialised object.
 */
export interface MessageParts {
  timestamp: string
  nonce: string
  method: string
  endpoint: string | Buffer
  body?: Buffer | string | undefined
}

export function buildMessage({ timestamp, nonce, method, endpoint, body }: MessageParts): Buffer {
  const head = timestamp + nonce + method.toUpperCase()
  const endpointBytes = typeof endpoint === 'string' ? Buffer.from(endpoint, 'utf8') : endpoint
  const bodyBytes = body === undefined ? EMPTY : typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  const headLength = Buffer.byteLength(head, 'utf8')
  const message = Buffer.allocUnsafe(headLength + endpointBytes.length + bodyBytes.length)
  message.write(head, 0, 'utf8')
  endpointBytes.copy(message, headLength)
  bodyBytes.copy(message, headLength + endpointBytes.length)
  return message
}

const EMPTY = Buffer.alloc(0)
