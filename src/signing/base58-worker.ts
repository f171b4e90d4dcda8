import { parentPort } from 'node:worker_threads'
import { base58Encode } from './base58.js'

/** Runs in a worker thread (see base58-pool.ts): answers each message with its base58 text. */
parentPort?.on('message', (bytes: Uint8Array) => parentPort?.postMessage(base58Encode(bytes)))
