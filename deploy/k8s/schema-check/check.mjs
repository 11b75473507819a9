// Schema and consistency check of `kubectl kustomize` output, run by deploy/validate-manifests.sh:
//   node check.mjs --compose RESOLVED-COMPOSE.yml --env-example .env.example NAME=BUILD.yaml…
// 1. Schema. Kubernetes kinds and KEDA's against the JSON schemas that kubernetes-models and @kubernetes-models/keda
//    bundle (types, required fields, enums, quantity and int-or-string formats), plus unknown fields: every property
//    the validator never reads is one the schema does not know (a typo such as `readinesProbe`). RabbitmqCluster and
//    CloudNativePG Cluster have no bundled schema: their spec fields are checked against the field lists of their CRDs
//    (cluster-operator v2.22, CloudNativePG v1.30), with the required and typed fields used here.
// 2. Consistency. References resolve (ConfigMaps, Secrets and their keys, $(VAR), Service/PDB selectors, autoscaler
//    targets, KEDA authentication), probes, resources and security settings the services need, connection strings to
//    the operators' Services, and container variables named exactly as in deploy/compose/docker-compose.yml.
import { readFileSync } from "node:fs";
import { parseAllDocuments, parse } from "yaml";
import { ConfigMap, Secret, Service, ResourceRequirements } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";

const MODELS = {
  "v1/ConfigMap": ConfigMap, "v1/Secret": Secret, "v1/Service": Service, "apps/v1/Deployment": Deployment,
  "batch/v1/Job": Job, "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject, "keda.sh/v1alpha1/TriggerAuthentication": TriggerAuthentication,
};
// Spec fields of the two operators' CRDs (config/crd/bases in each repository).
const CRDS = {
  "rabbitmq.com/v1beta1/RabbitmqCluster": {
    spec: "affinity autoEnableAllFeatureFlags delayStartSeconds image imagePullSecrets override persistence rabbitmq replicas resources secretBackend service skipPostDeploySteps terminationGracePeriodSeconds tls tolerations",
    "spec.persistence": "emptyDir storage storageClassName",
    "spec.rabbitmq": "additionalConfig additionalPlugins advancedConfig envConfig erlangInetConfig",
    "spec.service": "annotations ipFamilyPolicy labels type",
  },
  "postgresql.cnpg.io/v1/Cluster": {
    spec: "affinity backup bootstrap certificates description enablePDB enableSuperuserAccess env envFrom ephemeralVolumeSource ephemeralVolumesSizeLimit externalClusters failoverDelay imageCatalogRef imageName imagePullPolicy imagePullSecrets inheritedMetadata instances livenessProbeTimeout logLevel managed maxSyncReplicas minSyncReplicas monitoring nodeMaintenanceWindow plugins podSecurityContext podSelectorRefs postgresGID postgresUID postgresql primaryLease primaryUpdateMethod primaryUpdateStrategy priorityClassName probes projectedVolumeTemplate replica replicationSlots resources schedulerName seccompProfile securityContext serviceAccountName serviceAccountTemplate smartShutdownTimeout startDelay stopDelay storage superuserSecret switchoverDelay tablespaces topologySpreadConstraints walStorage",
    "spec.storage": "pvcTemplate resizeInUseVolumes size storageClass",
    "spec.bootstrap": "initdb pg_basebackup recovery",
    "spec.bootstrap.initdb": "builtinLocale dataChecksums database encoding icuLocale icuRules import locale localeCType localeCollate localeProvider options owner postInitApplicationSQL postInitApplicationSQLRefs postInitSQL postInitSQLRefs postInitTemplateSQL postInitTemplateSQLRefs secret walSegmentSize",
    "spec.postgresql": "enableAlterSystem extensions ldap parameters pg_hba pg_ident promotionTimeout shared_preload_libraries syncReplicaElectionConstraint synchronous",
  },
};
// Keys of the Secret operators create in production, named as in compose's .env (local generates it).
const APP_SECRET = "telemetry-secrets";
const APP_SECRET_KEYS = ["ROLE_PASSWORD_ATTEMPTS_API", "ROLE_PASSWORD_EVENT_INGESTOR", "ROLE_PASSWORD_AGGREGATOR",
  "ROLE_PASSWORD_STATS_API", "JWT_SIGNING_KEY", "ADMIN_KEY", "DASHBOARD_API_KEY"];
const APIS = ["attempts-api", "stats-api"], CONSUMERS = ["event-ingestor", "aggregator"];
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

let failures = 0;
const fail = (where, msg) => { failures++; console.error(`[manifests] ERROR: ${where}: ${msg}`); };

function arg(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || !process.argv[i + 1]) { console.error(`usage: check.mjs --compose FILE --env-example FILE NAME=BUILD…`); process.exit(2); }
  return process.argv.splice(i, 2)[1];
}
const compose = parse(readFileSync(arg("--compose"), "utf8"));
const envExample = new Set(readFileSync(arg("--env-example"), "utf8").split("\n").map(l => l.match(/^([A-Z_][A-Z0-9_]*)=/)?.[1]).filter(Boolean));
const builds = process.argv.slice(2).map(a => a.split("=", 2));

// Runs a kubernetes-models validator on a proxy that records every property it reads; what it never read is unknown.
function schema(model, data, where) {
  const seen = new Map();
  const track = v => {
    if (v === null || typeof v !== "object") return v;
    const used = new Set(); seen.set(v, used);
    return new Proxy(v, {
      get(t, k, r) { if (typeof k === "string") used.add(k); return track(Reflect.get(t, k, r)); },
      ownKeys(t) { for (const k of Reflect.ownKeys(t)) used.add(k); return Reflect.ownKeys(t); },
    });
  };
  try { model.prototype.validate.call(track(data)); } catch (e) { fail(where, `schema: ${e.message}`); return; }
  (function walk(node, path) {
    if (node === null || typeof node !== "object") return;
    for (const k of Object.keys(node)) {
      const p = Array.isArray(node) ? `${path}[${k}]` : `${path}.${k}`;
      if (!Array.isArray(node) && !seen.get(node)?.has(k)) fail(where, `unknown field ${p.slice(1)}`);
      else walk(node[k], p);
    }
  })(data, "");
}
function fieldsOf(crd, obj, where) {
  for (const [path, names] of Object.entries(crd)) {
    const node = path.split(".").reduce((n, k) => n?.[k], obj);
    if (node === undefined) continue;
    if (typeof node !== "object" || Array.isArray(node)) { fail(where, `${path} must be an object`); continue; }
    const known = new Set(names.split(" "));
    for (const k of Object.keys(node)) if (!known.has(k)) fail(where, `unknown field ${path}.${k} (not in the CRD)`);
  }
}
const int = (v, min) => Number.isInteger(v) && v >= min;
const matches = (selector, labels) => !!selector && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const refs = s => [...String(s ?? "").matchAll(/\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g)].map(m => m[1]);
const hostOf = cs => /(?:^|;)\s*Host=([^;]+)/i.exec(cs ?? "")?.[1];
const dbOf = cs => /(?:^|;)\s*Database=([^;]+)/i.exec(cs ?? "")?.[1];
const bytes = q => { const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q ?? ""); return m ? m[1] * ({ Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2]] ?? 1) : NaN; };

function checkBuild(name, file) {
  const objs = parseAllDocuments(readFileSync(file, "utf8")).map(d => d.toJS()).filter(Boolean);
  const get = (kind, n) => objs.find(o => o.kind === kind && o.metadata?.name === n);
  const all = kind => objs.filter(o => o.kind === kind);
  const rmqs = all("RabbitmqCluster"), pgs = all("Cluster");
  const namespaces = new Set(objs.map(o => o.metadata?.namespace));
  if (name !== "base" && (namespaces.size !== 1 || namespaces.has(undefined))) fail(name, `every object needs the one overlay namespace, found ${[...namespaces]}`);
  const ns = [...namespaces][0];

  // Secrets the operators create: <RabbitmqCluster>-default-user, <Cluster>-superuser (with superuser access on);
  // outside the local overlay, telemetry-secrets too (created by operators from compose's .env names).
  const external = new Map();
  for (const r of rmqs) external.set(`${r.metadata.name}-default-user`, ["username", "password", "host", "port"]);
  for (const p of pgs) if (p.spec?.enableSuperuserAccess === true) external.set(`${p.metadata.name}-superuser`, ["username", "password"]);
  if (name !== "local") external.set(APP_SECRET, APP_SECRET_KEYS);
  const keysOf = (kind, n) => {
    const o = get(kind, n);
    if (o) return Object.keys({ ...o.data, ...o.stringData });
    return kind === "Secret" ? external.get(n) : undefined;
  };
  const valueOf = (kind, n, k) => { const o = get(kind, n); return o?.stringData?.[k] ?? (o?.data?.[k] !== undefined ? (kind === "Secret" ? Buffer.from(o.data[k], "base64").toString() : o.data[k]) : undefined); };

  for (const o of objs) {
    const key = `${o.apiVersion}/${o.kind}`, where = `${name}: ${o.kind}/${o.metadata?.name}`;
    if (!DNS1123.test(o.metadata?.name ?? "")) fail(where, "metadata.name is missing or not a DNS-1123 name");
    if (MODELS[key]) schema(MODELS[key], o, where);
    else if (CRDS[key]) fieldsOf(CRDS[key], o, where);
    else fail(where, `unexpected apiVersion/kind ${key}`);
  }

  for (const r of rmqs) {
    const where = `${name}: RabbitmqCluster/${r.metadata.name}`, s = r.spec ?? {};
    if (!int(s.replicas, 1) || s.replicas % 2 === 0) fail(where, "spec.replicas must be an odd integer (quorum queues need a majority)");
    if (typeof s.image !== "string") fail(where, "spec.image must be a string");
    if (s.persistence?.storage !== undefined && !QUANTITY.test(s.persistence.storage)) fail(where, "spec.persistence.storage is not a quantity");
    if (s.resources) schema(ResourceRequirements, s.resources, `${where} spec.resources`);
  }
  for (const p of pgs) {
    const where = `${name}: Cluster/${p.metadata.name}`, s = p.spec ?? {};
    if (!int(s.instances, 1)) fail(where, "spec.instances (required) must be an integer >= 1");
    if (s.imageName !== undefined && typeof s.imageName !== "string") fail(where, "spec.imageName must be a string");
    if (!QUANTITY.test(s.storage?.size ?? "")) fail(where, "spec.storage.size (required here) must be a quantity");
    if (s.enableSuperuserAccess !== undefined && typeof s.enableSuperuserAccess !== "boolean") fail(where, "spec.enableSuperuserAccess must be a boolean");
    if (typeof s.bootstrap?.initdb?.database !== "string") fail(where, "spec.bootstrap.initdb.database must name the database");
    if (s.resources) schema(ResourceRequirements, s.resources, `${where} spec.resources`);
  }

  const workloads = [...all("Deployment"), ...all("Job")];
  for (const w of workloads) {
    const pod = w.spec.template.spec, containers = [...(pod.initContainers ?? []), ...pod.containers];
    for (const c of containers) {
      const where = `${name}: ${w.kind}/${w.metadata.name} container ${c.name}`;
      const env = new Map();
      for (const f of c.envFrom ?? []) {
        const [kind, ref] = f.configMapRef ? ["ConfigMap", f.configMapRef] : ["Secret", f.secretRef];
        const keys = keysOf(kind, ref.name);
        if (!keys) fail(where, `envFrom names ${kind} ${ref.name}, which is not in the build`);
        for (const k of keys ?? []) env.set(k, { value: valueOf(kind, ref.name, k) });
      }
      for (const e of c.env ?? []) {
        for (const r of refs(e.value)) if (!env.has(r)) fail(where, `${e.name} uses $(${r}), not defined before it`);
        const sel = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
        if (sel) {
          const kind = e.valueFrom.secretKeyRef ? "Secret" : "ConfigMap", keys = keysOf(kind, sel.name);
          if (!keys) fail(where, `${e.name} reads ${kind} ${sel.name}, which is neither in the build nor created by an operator`);
          else if (!keys.includes(sel.key)) fail(where, `${e.name} reads key ${sel.key}, which ${kind} ${sel.name} does not have`);
        }
        env.set(e.name, e);
      }
      for (const r of [...(c.args ?? []), ...(c.command ?? [])].flatMap(refs)) if (!env.has(r)) fail(where, `args use $(${r}), not defined`);
      // The same variable names as compose: each is one of that compose service's, or a compose .env name used as $(…).
      const svc = compose.services?.[c.name];
      if (!svc) fail(where, `no compose service named ${c.name} to take the variable names from`);
      else {
        const composeEnv = new Set(Object.keys(svc.environment ?? {}));
        const used = new Set([...env.values()].flatMap(e => refs(e.value)).concat((c.args ?? []).flatMap(refs)));
        for (const n of env.keys()) {
          if (composeEnv.has(n)) continue;
          if (envExample.has(n) && used.has(n)) continue;
          fail(where, `variable ${n} is not one of compose's ${c.name} variables (nor a compose .env name used in $(…))`);
        }
      }
      const literal = n => env.get(n)?.value;
      for (const n of ["ConnectionStrings__Telemetry", "ConnectionStrings__Admin"]) {
        if (!env.has(n)) continue;
        const want = pgs.map(p => `${p.metadata.name}-${c.name === "stats-api" ? "ro" : "rw"}`);
        if (!want.includes(hostOf(literal(n)))) fail(where, `${n} must connect to ${want.join(" or ") || "a CloudNativePG Cluster's Service"}, not ${hostOf(literal(n))}`);
        if (!pgs.some(p => p.spec?.bootstrap?.initdb?.database === dbOf(literal(n)))) fail(where, `${n} names database ${dbOf(literal(n))}, which no Cluster creates`);
      }
      if (c.name === "stats-api" && pgs.some(p => p.spec.instances < 2)) fail(where, "stats-api reads <cluster>-ro, which needs spec.instances >= 2 (a standby)");
      if (env.has("ConnectionStrings__RabbitMq")) {
        const host = /^amqp:\/\/[^@/]+@([^:/]+):5672\/$/.exec(literal("ConnectionStrings__RabbitMq") ?? "")?.[1];
        if (!rmqs.some(r => r.metadata.name === host)) fail(where, "ConnectionStrings__RabbitMq must be amqp://user:password@<RabbitmqCluster>:5672/");
      }
      if (CONSUMERS.includes(c.name) && env.get("SERVICE_INSTANCE")?.value !== undefined) fail(where, "SERVICE_INSTANCE must not be a fixed value: replicas would share one instance name");
      if (!c.securityContext?.readOnlyRootFilesystem || c.securityContext?.allowPrivilegeEscalation !== false) fail(where, "needs readOnlyRootFilesystem: true and allowPrivilegeEscalation: false");
      const res = c.resources ?? {};
      if (!res.requests?.cpu || !res.requests?.memory || !res.limits?.memory) fail(where, "needs cpu and memory requests and a memory limit");
      else if (bytes(res.limits.memory) < bytes(res.requests.memory)) fail(where, "memory limit below its request");
      if (w.kind === "Deployment") {
        const port = p => (typeof p === "number" ? p : c.ports?.find(x => x.name === p)?.containerPort);
        for (const [probe, path] of [["livenessProbe", "/health/live"], ["readinessProbe", "/health/ready"]])
          if (c[probe]?.httpGet?.path !== path || port(c[probe]?.httpGet?.port) !== 8080) fail(where, `${probe} must GET ${path} on port 8080`);
        if (literal("ASPNETCORE_URLS") !== "http://+:8080") fail(where, "ASPNETCORE_URLS must be http://+:8080 (the probes' port)");
        if (literal("MetricsOptions__Prometheus") !== "true") fail(where, "MetricsOptions__Prometheus must be true (the pods are scraped)");
      }
    }
    const where = `${name}: ${w.kind}/${w.metadata.name}`;
    if (pod.securityContext?.runAsNonRoot !== true) fail(where, "pod securityContext.runAsNonRoot must be true");
    if (w.kind === "Deployment") {
      const a = w.spec.template.metadata?.annotations ?? {};
      if (a["prometheus.io/scrape"] !== "true" || a["prometheus.io/port"] !== "8080" || a["prometheus.io/path"] !== "/metrics") fail(where, "pod needs the prometheus.io scrape annotations for :8080/metrics");
      if (!((pod.terminationGracePeriodSeconds ?? 30) >= 35)) fail(where, "terminationGracePeriodSeconds must cover the 30 s graceful shutdown (>= 35)");
      if (!matches(w.spec.selector.matchLabels, w.spec.template.metadata?.labels)) fail(where, "selector does not match its pod labels");
      const hpas = all("HorizontalPodAutoscaler").filter(h => h.spec.scaleTargetRef.name === w.metadata.name);
      const sos = all("ScaledObject").filter(s => s.spec.scaleTargetRef.name === w.metadata.name);
      const want = APIS.includes(w.metadata.name) ? [1, 0] : CONSUMERS.includes(w.metadata.name) ? [0, 1] : null;
      if (!want) fail(where, "not one of the four services");
      else if (hpas.length !== want[0] || sos.length !== want[1]) fail(where, `needs exactly ${want[0] ? "one HorizontalPodAutoscaler" : "one KEDA ScaledObject"} and no other autoscaler`);
      if (w.spec.replicas !== undefined) fail(where, "spec.replicas would reset its autoscaler on every apply");
      if (!all("Service").some(s => matches(s.spec.selector, w.spec.template.metadata?.labels))) fail(where, "no Service selects its pods");
      if (!all("PodDisruptionBudget").some(p => matches(p.spec.selector?.matchLabels, w.spec.template.metadata?.labels))) fail(where, "no PodDisruptionBudget covers its pods");
    }
  }

  for (const s of all("Service")) {
    const target = all("Deployment").find(d => matches(s.spec.selector, d.spec.template.metadata?.labels));
    if (!target) { fail(`${name}: Service/${s.metadata.name}`, "selects no Deployment's pods"); continue; }
    for (const p of s.spec.ports) if (typeof p.targetPort === "string" && !target.spec.template.spec.containers.some(c => c.ports?.some(x => x.name === p.targetPort))) fail(`${name}: Service/${s.metadata.name}`, `targetPort ${p.targetPort} is no port of ${target.metadata.name}`);
  }
  for (const p of all("PodDisruptionBudget")) {
    const sel = p.spec.selector?.matchLabels;
    const covers = all("Deployment").some(d => matches(sel, d.spec.template.metadata?.labels)) || rmqs.some(r => matches(sel, { "app.kubernetes.io/name": r.metadata.name }));
    if (!covers) fail(`${name}: PodDisruptionBudget/${p.metadata.name}`, "selects no pods of the build");
  }
  const minimum = name === "production" ? 2 : 1; // two or more in production, so each PodDisruptionBudget leaves one serving
  for (const h of all("HorizontalPodAutoscaler")) {
    const where = `${name}: HorizontalPodAutoscaler/${h.metadata.name}`;
    if (!get("Deployment", h.spec.scaleTargetRef.name) || h.spec.scaleTargetRef.kind !== "Deployment") fail(where, "scaleTargetRef is no Deployment of the build");
    if (!((h.spec.minReplicas ?? 1) >= minimum) || !(h.spec.maxReplicas >= (h.spec.minReplicas ?? 1))) fail(where, `needs minReplicas >= ${minimum} and maxReplicas >= minReplicas`);
  }
  for (const s of all("ScaledObject")) {
    const where = `${name}: ScaledObject/${s.metadata.name}`, target = s.spec.scaleTargetRef.name;
    if (!get("Deployment", target)) fail(where, `scaleTargetRef ${target} is no Deployment of the build`);
    if (!((s.spec.minReplicaCount ?? 0) >= minimum) || !((s.spec.maxReplicaCount ?? 100) >= s.spec.minReplicaCount)) fail(where, `needs minReplicaCount >= ${minimum} (consumers also run partitions/retention) and maxReplicaCount >= it`);
    for (const t of s.spec.triggers) {
      const m = t.metadata ?? {};
      if (t.type !== "rabbitmq" || m.mode !== "QueueLength" || m.protocol !== "amqp" || m.vhostName !== "/") fail(where, "trigger must be rabbitmq, mode QueueLength, protocol amqp, vhostName /");
      if (!/^[1-9]\d*$/.test(m.value ?? "")) fail(where, "trigger value must be a positive whole number of messages");
      if (m.queueName !== target || !CONSUMERS.includes(m.queueName)) fail(where, `queueName must be its consumer's queue (${target})`);
      if (m.host || m.hostFromEnv || m.username || m.password) fail(where, "the broker address and credentials belong in the TriggerAuthentication");
      if (!get("TriggerAuthentication", t.authenticationRef?.name)) fail(where, `authenticationRef ${t.authenticationRef?.name} is no TriggerAuthentication of the build`);
    }
  }
  for (const t of all("TriggerAuthentication")) {
    const where = `${name}: TriggerAuthentication/${t.metadata.name}`, params = {};
    for (const r of t.spec.secretTargetRef ?? []) {
      params[r.parameter] = r;
      if (!(keysOf("Secret", r.name) ?? []).includes(r.key)) fail(where, `${r.parameter} reads ${r.name}/${r.key}, which does not exist`);
    }
    if (!params.host || !params.username || !params.password) fail(where, "needs host, username and password");
    else if (get("Secret", params.host.name)) {
      const host = valueOf("Secret", params.host.name, params.host.key), m = /^amqp:\/\/([^@/:]+)\.([^.]+)\.svc:5672\/$/.exec(host ?? "");
      if (!m || !rmqs.some(r => r.metadata.name === m[1])) fail(where, `host ${host} must be amqp://<RabbitmqCluster>.<namespace>.svc:5672/ without credentials`);
      else if (ns && m[2] !== ns) fail(where, `host names namespace ${m[2]}, but the build deploys to ${ns} (KEDA resolves it from its own namespace)`);
    }
  }
  for (const s of all("Secret")) {
    const where = `${name}: Secret/${s.metadata.name}`, values = Object.keys({ ...s.data, ...s.stringData }).map(k => valueOf("Secret", s.metadata.name, k));
    if (s.metadata.name.startsWith(`${APP_SECRET}-`) || s.metadata.name === APP_SECRET) {
      if (name !== "local") fail(where, "the application Secret is operators' to create outside the local overlay");
      const keys = keysOf("Secret", s.metadata.name);
      if (APP_SECRET_KEYS.some(k => !keys.includes(k))) fail(where, `needs the keys ${APP_SECRET_KEYS.join(", ")}`);
      if (values.some(v => !v.startsWith("local-dev-"))) fail(where, "every value must be a marked local-dev placeholder");
    } else if (values.some(v => /:\/\/[^/@]*@/.test(v))) fail(where, "holds credentials; only the local overlay may carry (placeholder) secrets");
  }
  console.log(`[manifests] ${name}: ${objs.length} objects: schema and consistency ok${failures ? " so far, but see the errors above" : ""}`);
}

// Compose (its resolved `config`): scaled consumers must not pin host ports, names or an instance name.
for (const s of CONSUMERS) {
  const svc = compose.services?.[s];
  if (!svc) fail("compose", `no service ${s}`);
  else for (const k of ["ports", "container_name", "hostname"]) if (svc[k] !== undefined) fail("compose", `${s} sets ${k}, so --scale ${s}=N cannot work`);
  if (svc?.environment?.SERVICE_INSTANCE !== undefined) fail("compose", `${s} sets SERVICE_INSTANCE: replicas would share one instance name`);
}
for (const [name, file] of builds) checkBuild(name, file);
if (failures) { console.error(`[manifests] ${failures} problem(s)`); process.exit(1); }
