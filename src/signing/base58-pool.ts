import { Worker } from 'node:worker_threads'

/**
 * Base58 pre-encoding off the event loop. It is the one pre-encoding whose
 * cost grows faster than the message (1 KiB 0.13 ms, 8 KiB 1.8 ms, 64 KiB
 * 36 ms) and it is paid before the signature is known, so a caller with a
 * valid API key and made-up signatures could make every other request wait
 * behind it. Large messages are encoded in worker threads instead; the queue
 * is bounded, and a full queue is refused at once (503) rather than grown.
 */
export class VerificationBusyError extends Error {
  override name = 'VerificationBusyError'
}

/** Messages at least this long are encoded in a worker: below it, posting costs more than encoding. */
export const OFFLOAD_BYTES = 1024

interface Job {
  bytes: Uint8Array
  resolve: (encoded: Buffer) => void
  reject: (err: Error) => void
}

export class Base58Pool {
  private readonly idle: Worker[] = []
  private readonly queue: Job[] = []
  private readonly running = new Map<Worker, Job>()
  private readonly workers: Worker[] = []

  /** Threads start on first use: a gateway whose credentials never use base58 starts none. */
  constructor(private readonly options: { threads: number; maxQueue: number }) {}

  private spawn(): void {
    const worker = new Worker(new URL('./base58-worker.js', import.meta.url))
    worker.unref()
    worker.on('message', (text: string) => {
      this.running.get(worker)?.resolve(Buffer.from(text, 'latin1'))
      this.running.delete(worker)
      this.next(worker)
    })
    worker.on('error', (err) => {
      this.running.get(worker)?.reject(err)
      this.running.delete(worker)
      this.workers.splice(this.workers.indexOf(worker), 1)
      this.spawn()
    })
    this.workers.push(worker)
    this.next(worker)
  }

  private next(worker: Worker): void {
    const job = this.queue.shift()
    if (!job) {
      this.idle.push(worker)
      return
    }
    this.running.set(worker, job)
    worker.postMessage(job.bytes)
  }

  /** The base58 text of `bytes`, as latin1 bytes (what a signature is computed over). */
  encode(bytes: Uint8Array): Promise<Buffer> {
    if (this.queue.length >= this.options.maxQueue) return Promise.reject(new VerificationBusyError(`${this.queue.length} base58 encodings already queued`))
    return new Promise((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject })
      if (this.workers.length < this.options.threads) this.spawn()
      else {
        const worker = this.idle.pop()
        if (worker) this.next(worker)
      }
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()))
  }
}
