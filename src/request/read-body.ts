import type { Readable } from 'node:stream'
import { ERRORS, GatewayError } from '../errors.js'

/**
 * Reads a request body as the exact bytes received, up to `limit` (which
 * depends on the caller's signing scheme, known from its headers before the
 * body is read): a declared length over the limit is refused before a byte is
 * read, and reading stops at the first byte over it. A body shorter or longer
 * than its Content-Length is malformed.
 */
export function readBody(stream: Readable, limit: number, declaredLength: string | undefined): Promise<Buffer> {
  const declared = declaredLength === undefined ? undefined : Number(declaredLength)
  if (declared !== undefined && declared > limit) return Promise.reject(new GatewayError(ERRORS.bodyTooLarge))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let received = 0
    const finish = (err?: Error | null) => {
      stream.off('data', onData)
      stream.off('end', finish)
      stream.off('error', finish)
      stream.off('close', closed)
      if (err) return reject(err)
      if (declared !== undefined && received !== declared) return reject(new GatewayError(ERRORS.malformedRequest, { message: 'Request body length differs from Content-Length' }))
      resolve(Buffer.concat(chunks, received))
    }
    const onData = (chunk: Buffer) => {
      received += chunk.length
      if (received > limit) return finish(new GatewayError(ERRORS.bodyTooLarge))
      chunks.push(chunk)
    }
    // A client that hangs up mid-body: nothing more will come.
    const closed = () => finish(Object.assign(new Error('request aborted'), { code: 'ECONNRESET' }))
    stream.on('data', onData)
    stream.on('end', finish)
    stream.on('error', finish)
    stream.on('close', closed)
    stream.resume()
  })
}
