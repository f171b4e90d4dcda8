import t from 'tap'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, parseAllDocuments } from 'yaml'
import { configSchema } from '../../src/config/schema.js'
import { compileSchema, schemaProblems } from '../../src/config/validate.js'
import { SourceDocument } from '../../src/config/yaml.js'
import { loadMappings } from '../../src/mapping/load.js'
import { parseRedisUrl } from '../../src/redis.js'
import { repoPath } from '../helpers/paths.js'
import { tempDir } from '../helpers/temp.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

t.test('Dockerfile copies only what exists', async (t) => {
  const dockerfile = readFileSync(repoPath('Dockerfile'), 'utf8')
  for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) t.ok(existsSync(repoPath(source as string)), `COPY ${source}`)
  t.match(dockerfile, /^USER 1000:1000$/m, 'runs as a numeric non-root user')
  t.match(dockerfile, /^HEALTHCHECK /m)
})

t.test('docker-compose: services, files and config it refers to exist', async (t) => {
  const compose = parse(readFileSync(repoPath('deploy/docker-compose.yml'), 'utf8')) as Json
  t.same(Object.keys(compose.services).sort(), ['gateway', 'grafana', 'legacy-exchange', 'prometheus', 'redis'])
  for (const [name, service] of Object.entries(compose.services as Record<string, Json>)) {
    if (service.build) t.ok(existsSync(repoPath('deploy', service.build.context, service.build.dockerfile)), `${name}: build`)
    for (const volume of (service.volumes ?? []) as string[]) {
      const host = volume.split(':')[0] as string
      if (host.startsWith('.')) t.ok(existsSync(repoPath('deploy', host)), `${name}: ${host}`)
    }
    for (const dependency of service.depends_on ?? []) t.ok(compose.services[dependency], `${name} depends on ${dependency}`)
  }
  const config = compose.services.gateway.environment.NLGW_CONFIG as string
  t.ok(existsSync(repoPath(config.replace('/app/', ''))), 'NLGW_CONFIG is in the image (Dockerfile copies config/)')
  const prometheus = parse(readFileSync(repoPath('deploy/prometheus/prometheus.yml'), 'utf8')) as Json
  t.same(prometheus.scrape_configs[0].static_configs[0].targets, ['gateway:9464'])
})

t.test('Kubernetes: every resource parses and every reference resolves', async (t) => {
  const dir = repoPath('deploy/kubernetes')
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Json
  const resources: Json[] = []
  for (const file of kustomization.resources as string[]) {
    t.ok(existsSync(join(dir, file)), file)
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      t.same(doc.errors, [], `${file} parses`)
      resources.push(doc.toJS() as Json)
    }
  }
  const byKind = (kind: string) => resources.filter((r) => r.kind === kind)
  const configMaps = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, c]))
  const secrets = new Map(byKind('Secret').map((s) => [s.metadata.name, s]))
  const [deployment] = byKind('Deployment') as [Json]
  const pod = deployment.spec.template
  t.same(deployment.spec.selector.matchLabels, pod.metadata.labels, 'the selector matches the pod')
  for (const volume of pod.spec.volumes as Json[]) {
    if (volume.configMap) t.ok(configMaps.has(volume.configMap.name), `volume ${volume.name}: ConfigMap ${volume.configMap.name}`)
    if (volume.secret) {
      const secret = secrets.get(volume.secret.secretName)
      t.ok(secret, `volume ${volume.name}: Secret ${volume.secret.secretName}`)
      for (const item of volume.secret.items ?? []) t.ok(item.key in (secret?.stringData ?? {}), `Secret key ${item.key}`)
    }
  }
  const gateway = (pod.spec.containers as Json[]).find((c) => c.name === 'nlgw') as Json
  const ports = new Set((gateway.ports as Json[]).map((p) => p.name))
  for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) t.ok(ports.has(gateway[probe].httpGet.port), `${probe} uses a named port`)
  t.equal(gateway.readinessProbe.httpGet.path, '/readyz')
  for (const env of gateway.env as Json[]) {
    const ref = env.valueFrom?.secretKeyRef
    if (ref) t.ok(ref.key in (secrets.get(ref.name)?.stringData ?? {}), `env ${env.name}: ${ref.name}/${ref.key}`)
  }
  const [service] = byKind('Service') as [Json]
  t.same(service.spec.ports.map((p: Json) => p.targetPort), ['network-link'], 'the Service exposes the gateway only')
  t.ok(byKind('PodMonitor').length)
  // The metrics port answers anyone who reaches it: the NetworkPolicy opens it to Prometheus only.
  const [policy] = byKind('NetworkPolicy') as [Json]
  t.same(policy.spec.podSelector.matchLabels, pod.metadata.labels, 'the NetworkPolicy selects the pods')
  const openTo = (port: string) => (policy.spec.ingress as Json[]).filter((rule) => (rule.ports as Json[]).some((p) => p.port === port))
  t.same(openTo('network-link').map((rule) => rule.from), [undefined], 'the Network Link port is open to the load balancer')
  t.same(openTo('metrics').map((rule) => rule.from.length), [1], 'the metrics port is open to one selected source only')
  for (const port of ['network-link', 'metrics']) t.ok(ports.has(port), `the policy's port ${port} is the container's`)

  // Scaling: the autoscaler drives this Deployment, above what the disruption budget keeps.
  const [hpa] = byKind('HorizontalPodAutoscaler') as [Json]
  const [pdb] = byKind('PodDisruptionBudget') as [Json]
  t.same(hpa.spec.scaleTargetRef, { apiVersion: deployment.apiVersion, kind: 'Deployment', name: deployment.metadata.name }, 'the HPA scales the Deployment')
  t.equal(deployment.spec.replicas, undefined, 'the Deployment leaves the replica count to the HPA (kubectl apply would reset it)')
  t.ok(hpa.spec.minReplicas > pdb.spec.minAvailable && hpa.spec.maxReplicas >= hpa.spec.minReplicas, 'min replicas above the PDB, max above min')
  t.same(pdb.spec.selector.matchLabels, pod.metadata.labels, 'the PDB selects the pods')
  for (const metric of hpa.spec.metrics as Json[]) {
    const resource = metric.resource.name as string
    for (const container of pod.spec.containers as Json[]) t.ok(container.resources?.requests?.[resource], `${container.name} requests ${resource} (utilisation is measured against requests)`)
  }
  const spread = pod.spec.topologySpreadConstraints as Json[]
  t.same(spread.map((c) => c.topologyKey).sort(), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'], 'spread over nodes and zones')
  for (const constraint of spread) t.same(constraint.labelSelector.matchLabels, pod.metadata.labels, `${constraint.topologyKey}: counts these pods`)

  // Redis is external: the Secret names a Sentinel set or a Cluster, in a URL the gateway parses.
  const redisUrl = secrets.get('nlgw-secrets')?.stringData.REDIS_URL as string
  t.match(parseRedisUrl(redisUrl), { kind: /^(sentinel|cluster)$/ }, `REDIS_URL names highly available Redis: ${redisUrl}`)
  t.ok((gateway.env as Json[]).some((e) => e.name === 'REDIS_URL' && e.valueFrom?.secretKeyRef?.key === 'REDIS_URL'), 'the gateway reads it from the Secret')

  // The embedded config passes the gateway's own schema, and the mappings compile.
  const configYaml = configMaps.get('nlgw-config')?.data['gateway.yaml'] as string
  t.same(schemaProblems(SourceDocument.parse('gateway.yaml', configYaml), compileSchema(configSchema)), [], 'gateway.yaml is a valid config')
  const mappingDir = tempDir('nlgw-k8s-')
  const files = Object.entries(configMaps.get('nlgw-mappings')?.data as Record<string, string>).map(([name, text]) => {
    writeFileSync(join(mappingDir, name), text)
    return join(mappingDir, name)
  })
  t.equal(loadMappings(files, { defaultTimeoutMs: 1000, subjectHeader: 'x-legacy-user', successStatus: () => 200 }).routes.size, 2, 'the example mappings compile')
})
