/**
 * nginx as the ceiling anchor: one worker, keep-alive connections to the
 * backend, proxying the same paths as the bare proxy (`/v2/*` → backend `/*`),
 * no authentication and no mapping. Started only when Debian's nginx is there.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { start } from './procs.js'

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path))

export function startNginx(dir: string, port: number, upstream: string, cpus?: string): ChildProcess | undefined {
  if (!NGINX) return undefined
  const prefix = join(dir, 'nginx')
  mkdirSync(join(prefix, 'logs'), { recursive: true })
  const conf = join(prefix, 'nginx.conf')
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  upstream backend { server ${new URL(upstream).host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location /v2/ {
      proxy_pass http://backend/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  )
  return start([NGINX, '-p', prefix, '-c', conf], cpus === undefined ? {} : { cpus })
}
