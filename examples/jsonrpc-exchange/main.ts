import { buildJsonRpcExchange } from './app.js'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.JSONRPC_PORT ?? 8020)

const exchange = buildJsonRpcExchange()
const url = await exchange.listen({ host, port })
console.log(`JSON-RPC exchange on ${url}/rpc`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void exchange.close())
