/**
 * `npm run demo:replicas`: the demo scaled out as it runs in production, on
 * one machine. nginx on 127.0.0.1:8000 (PORT) sends requests round robin to
 * two gateway processes sharing one redis-server, in front of the demo legacy
 * exchange. Ports, each a variable:
 *   gateways            GATEWAY_PORTS=8001,8002
 *   their metrics       GATEWAY_METRICS_PORTS=9465,9466
 *   their outbound      GATEWAY_OUTBOUND_PORTS=8101,8102
 *   redis-server        REDIS_PORT=6380 (no persistence, started and stopped with the demo)
 *   legacy exchange     LEGACY_PORT=8010
 * NGINX names the nginx binary (default: nginx on the PATH, else /usr/sbin/nginx).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { root, start, waitFor } from './processes.js'

const ports = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',')
const port = process.env.PORT ?? '8000'
const gatewayPorts = ports('GATEWAY_PORTS', '8001,8002')
const metricsPorts = ports('GATEWAY_METRICS_PORTS', '9465,9466')
const outboundPorts = ports('GATEWAY_OUTBOUND_PORTS', '8101,8102')
const redisPort = process.env.REDIS_PORT ?? '6380'
const legacyPort = process.env.LEGACY_PORT ?? '8010'

const work = mkdtempSync(join(tmpdir(), 'nlgw-replicas-'))
process.on('exit', () => rmSync(work, { recursive: true, force: true }))

function nginxBinary(): string {
  if (process.env.NGINX) return process.env.NGINX
  const onPath = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'nginx'))
  const found = [...onPath, '/usr/sbin/nginx'].find((candidate) => existsSync(candidate))
  if (!found) {
    console.error('nginx not found: install it (Debian: apt-get install nginx-light) or set NGINX')
    process.exit(1)
  }
  return found
}

/** Round robin over the gateways; everything nginx writes stays in the demo's own directory. */
function nginxConfig(): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(work, kind)};`).join('\n')
  return `daemon off;
worker_processes 1;
pid ${join(work, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
${temp}
  upstream gateways {
${gatewayPorts.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`
}

start('redis-server', 'redis-server', ['--port', redisPort, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work, '--loglevel', 'warning'], process.env)
start('legacy exchange', process.execPath, [join(root, 'dist/examples/legacy-exchange/main.js')], { ...process.env, HOST: '127.0.0.1', LEGACY_PORT: legacyPort, LEGACY_LOG_LEVEL: process.env.LEGACY_LOG_LEVEL ?? 'warn' })
await waitFor(`http://127.0.0.1:${legacyPort}/internal/v1/tokens`, 'the legacy exchange')
const gateways = gatewayPorts.map((gatewayPort, i) => ({ port: gatewayPort, metrics: `http://127.0.0.1:${metricsPorts[i]}` }))
gateways.forEach((gateway, i) =>
  start(`gateway ${i + 1}`, process.execPath, [join(root, 'dist/plugins/server.js')], {
    ...process.env,
    NLGW_CONFIG: process.env.NLGW_CONFIG ?? join(root, 'config/demo/gateway.yaml'),
    UPSTREAM_URL: `http://127.0.0.1:${legacyPort}`,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    PORT: gateway.port,
    METRICS_PORT: metricsPorts[i],
    OUTBOUND_PORT: outboundPorts[i],
    LOG_PRETTY: process.env.LOG_PRETTY ?? '1',
    NODE_OPTIONS: process.env.NODE_OPTIONS ?? '--max-old-space-size=128 --max-semi-space-size=8',
  }),
)
for (const gateway of gateways) await waitFor(`${gateway.metrics}/readyz`, `gateway on ${gateway.port}`)
writeFileSync(join(work, 'nginx.conf'), nginxConfig())
start('nginx', nginxBinary(), ['-p', work, '-c', join(work, 'nginx.conf'), '-e', 'stderr'], process.env)
await waitFor(`http://127.0.0.1:${port}/v2/capabilities`, 'nginx')

console.log(`
  Network Link Gateway demo, two replicas
  ───────────────────────────────────────
  Network Link API   http://127.0.0.1:${port}/v2   (nginx, round robin; keys in config/demo/credentials.yaml)
  gateways           ${gateways.map((g) => `127.0.0.1:${g.port} (metrics ${g.metrics})`).join(', ')}
  shared Redis       redis://127.0.0.1:${redisPort}   (nonces and idempotency records)
  legacy exchange    http://127.0.0.1:${legacyPort}/internal/v1/…

  The same signed request sent to both replicas at once is accepted once:
  npx nlgw curl -v http://127.0.0.1:${port}/v2/accounts --env config/demo/validator.env
  Ctrl-C stops everything.
`)
