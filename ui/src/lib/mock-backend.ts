/**
 * A {@link Backend} that simulates a demo in the browser: the real bundled manifest, input
 * checks from its rules, a rough cost from its price snapshot, and a deployment that emits the
 * engine's events on timers (network, monitoring and secrets in parallel, then data, compute,
 * endpoints), with one resource that can be made to fail on its first try. Every event is kept
 * in a per-run journal so `deploymentSnapshot` and `attach` behave as after a reload.
 *
 * The cost model and cross-input rules here are simplified stand-ins for the engine's, which
 * evaluates the manifest's ARM expressions: good enough to drive the UI, not to quote prices.
 */
import manifestJson from "../../../templates/data-platform/manifest.json";
import type {
  CostEstimate,
  DeploymentEvent,
  ErrorReport,
  EventEnvelope,
  InputError,
  InstanceRecord,
  Manifest,
  PreflightReport,
  Problem,
  RunSnapshot,
  StageSummary,
} from "$lib/bindings";
import type { Backend, DemoOptions, DeployRequest, InputsCheck } from "$lib/backend";
import type { SignInMethod, SubscriptionSummary } from "$lib/bindings-pending";
import { emptyRun, foldEvents } from "$lib/deploy-view";
import type { InputValues } from "$lib/form";

/** The bundled manifest, as the engine would load it. */
export const MANIFEST = manifestJson as unknown as Manifest;

/** A simulated resource: type, name pattern (`{n}` is the instance name), seconds in Azure. */
interface SimResource {
  type: string;
  name: string;
  secs: number;
}

/** A simulated stage. */
interface SimStage {
  name: string;
  label: string;
  dependsOn: string[];
  resources: SimResource[];
}

/** The demo's stages, shaped like the bundled templates, with Azure-like durations. */
export const DEMO_STAGES: readonly SimStage[] = [
  {
    name: "network",
    label: "Network",
    dependsOn: [],
    resources: [
      { type: "Microsoft.Network/networkSecurityGroups", name: "{n}-aks-nsg", secs: 8 },
      { type: "Microsoft.Network/networkSecurityGroups", name: "{n}-mysql-nsg", secs: 8 },
      { type: "Microsoft.Network/virtualNetworks", name: "{n}-vnet", secs: 14 },
    ],
  },
  {
    name: "monitoring",
    label: "Monitoring",
    dependsOn: [],
    resources: [{ type: "Microsoft.OperationalInsights/workspaces", name: "{n}-logs", secs: 25 }],
  },
  {
    name: "secrets",
    label: "Secrets",
    dependsOn: [],
    resources: [{ type: "Microsoft.KeyVault/vaults", name: "{n}-kv", secs: 30 }],
  },
  {
    name: "data",
    label: "Data",
    dependsOn: ["network", "secrets"],
    resources: [
      { type: "Microsoft.Storage/storageAccounts", name: "{n}data", secs: 25 },
      { type: "Microsoft.Network/privateDnsZones", name: "{n}.mysql.database.azure.com", secs: 40 },
      { type: "Microsoft.DBforMySQL/flexibleServers", name: "{n}-mysql", secs: 420 },
    ],
  },
  {
    name: "compute",
    label: "Compute",
    dependsOn: ["data", "monitoring"],
    resources: [
      { type: "Microsoft.ContainerRegistry/registries", name: "{n}acr", secs: 20 },
      { type: "Microsoft.ContainerService/managedClusters", name: "{n}-aks", secs: 330 },
    ],
  },
  {
    name: "outputs",
    label: "Endpoints",
    dependsOn: ["compute"],
    resources: [{ type: "Microsoft.Network/publicIPAddresses", name: "{n}-ip", secs: 10 }],
  },
];

/** How the mock waits: real timers by default, a fake clock in tests. */
export interface MockClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`. */
  sleep(ms: number): Promise<void>;
}

const realClock: MockClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

interface MockRun {
  id: string;
  journal: EventEnvelope[];
  listener: ((e: EventEnvelope) => void) | null;
  /** Seq of the `runFinished {detached}` while detached. */
  detachedAt: number | null;
  cancelled: boolean;
  finished: boolean;
  request: DeployRequest;
  stages: SimStage[];
}

const SUBSCRIPTION: SubscriptionSummary = {
  subscriptionId: "00000000-0000-4000-8000-00000000demo",
  displayName: "Contoso Demo (simulated)",
  tenantId: "00000000-0000-4000-8000-0000000tenant",
};

function problem(code: string, message: string): Problem {
  return { code, message };
}

/** Rejects as the Tauri shell does: with the command's `Problem`, a plain object. */
function reject(p: Problem): Promise<never> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the Backend contract rejects with Problem, as Tauri's invoke does
  return Promise.reject(p);
}

/** The simulated backend. */
export class MockBackend implements Backend {
  /** Options of the current demo. */
  options: DemoOptions = { speed: 6, failResource: null };
  private readonly runs = new Map<string, MockRun>();
  private readonly failedOnce = new Set<string>();
  private counter = 0;
  private signedIn = false;

  constructor(private readonly clock: MockClock = realClock) {}

  startDemo(options: DemoOptions): Promise<void> {
    this.options = { ...options };
    this.signedIn = true;
    return Promise.resolve();
  }

  signIn(method: SignInMethod): Promise<void> {
    return reject(
      problem("unsupported", `The mock backend cannot sign in (${method.kind}); use Try the demo.`),
    );
  }

  listSubscriptions(): Promise<SubscriptionSummary[]> {
    if (!this.signedIn) {
      return reject(problem("Unauthorized", "Sign in (or start the demo) first."));
    }
    return Promise.resolve([SUBSCRIPTION]);
  }

  loadManifest(): Promise<Manifest> {
    return Promise.resolve(structuredClone(MANIFEST));
  }

  validateInputs(values: InputValues): Promise<InputsCheck> {
    const errors = checkInputs(MANIFEST, values);
    const cost = errors.some((e) => e.input !== "name") ? null : estimate(MANIFEST, values);
    return Promise.resolve({ valid: errors.length === 0, errors, cost });
  }

  preflight(request: DeployRequest): Promise<PreflightReport> {
    const name = String(request.values.name ?? "");
    return Promise.resolve({
      checks: [
        { id: "inputs", label: "Inputs", status: "pass", message: "Every input is valid." },
        {
          id: "quota",
          label: "Regional vCPU quota",
          status: "pass",
          message: `The simulated subscription has room for ${name}'s cluster.`,
        },
      ],
    });
  }

  deploy(request: DeployRequest, onEvent: (e: EventEnvelope) => void): Promise<string> {
    const errors = checkInputs(MANIFEST, request.values);
    if (errors.length > 0) {
      return reject({
        code: "inputs",
        message: errors.map((e) => e.message).join("; "),
        details: errors,
      });
    }
    return Promise.resolve(this.begin(request, [...DEMO_STAGES], "install", onEvent));
  }

  deploymentSnapshot(runId: string): Promise<RunSnapshot> {
    const run = this.runs.get(runId);
    if (run === undefined) {
      return reject(problem("notFound", `No run ${runId} in the journal.`));
    }
    return Promise.resolve(foldEvents(emptyRun(), run.journal).snapshot);
  }

  attach(runId: string, afterSeq: number, onEvent: (e: EventEnvelope) => void): Promise<void> {
    const run = this.runs.get(runId);
    if (run === undefined) {
      return reject(problem("notFound", `No run ${runId} in the journal.`));
    }
    run.listener = onEvent;
    for (const e of run.journal.filter((x) => x.seq > afterSeq)) {
      onEvent(e);
    }
    return Promise.resolve();
  }

  cancel(runId: string, inAzure: boolean): Promise<void> {
    const run = this.runs.get(runId);
    if (run === undefined) {
      return reject(problem("notFound", `No run ${runId} in the journal.`));
    }
    if (run.finished) {
      return Promise.resolve();
    }
    if (inAzure) {
      run.cancelled = true;
    } else {
      this.emit(run, {
        event: "runFinished",
        data: {
          outcome: "detached",
          outputs: null,
          error: null,
          elapsedSecs: this.elapsed(run),
          at: this.at(),
        },
      });
      run.detachedAt = run.journal.length;
      run.listener = null;
    }
    return Promise.resolve();
  }

  async retry(runId: string, onEvent: (e: EventEnvelope) => void): Promise<string> {
    const snapshot = await this.deploymentSnapshot(runId);
    const run = this.runs.get(runId);
    if (run === undefined || snapshot.outcome !== "failed") {
      return reject(problem("refused", "Only a failed run can be retried."));
    }
    const done = new Set(snapshot.stages.filter((s) => s.state === "succeeded").map((s) => s.name));
    const stages = run.stages
      .filter((s) => !done.has(s.name))
      .map((s) => ({ ...s, dependsOn: s.dependsOn.filter((d) => !done.has(d)) }));
    return this.begin(run.request, stages, "retry", onEvent);
  }

  resume(runId: string, onEvent: (e: EventEnvelope) => void): Promise<void> {
    const run = this.runs.get(runId);
    if (run === undefined) {
      return reject(problem("notFound", `No run ${runId} in the journal.`));
    }
    const after = run.detachedAt ?? 0;
    run.detachedAt = null;
    return this.attach(runId, after, onEvent);
  }

  instances(): Promise<InstanceRecord[]> {
    return Promise.resolve([]);
  }

  private begin(
    request: DeployRequest,
    stages: SimStage[],
    kind: "install" | "retry",
    onEvent: (e: EventEnvelope) => void,
  ): string {
    this.counter += 1;
    const id = `run-${String(this.counter).padStart(4, "0")}`;
    const run: MockRun = {
      id,
      journal: [],
      listener: onEvent,
      detachedAt: null,
      cancelled: false,
      finished: false,
      request,
      stages,
    };
    this.runs.set(id, run);
    void this.simulate(run, kind);
    return id;
  }

  private async simulate(run: MockRun, kind: "install" | "retry"): Promise<void> {
    const name = String(run.request.values.name ?? "demo");
    const { subscriptionId, resourceGroup, location } = run.request.target;
    const rg = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
    const speed = Math.max(0.01, this.options.speed);
    const scaled = (secs: number): number => secs / speed;
    const resId = (r: SimResource): string =>
      `${rg}/providers/${r.type}/${r.name.replaceAll("{n}", name)}`;
    const summaries: StageSummary[] = run.stages.map((s) => ({
      name: s.name,
      label: s.label,
      dependsOn: s.dependsOn,
      deploymentName: `landfall-${name}-${s.name}`,
      resources: s.resources.map((r) => ({
        resourceId: resId(r),
        resourceType: r.type,
        resourceName: r.name.replaceAll("{n}", name),
        expectedSecs: scaled(r.secs),
      })),
      expectedSecs: scaled(Math.max(...s.resources.map((r) => r.secs))),
    }));
    const expected = criticalPath(summaries);
    const total = summaries.reduce((n, s) => n + s.resources.length, 0);
    let done = 0;
    const started = this.clock.now();
    this.emit(run, {
      event: "runStarted",
      data: {
        runId: run.id,
        instance: name,
        kind,
        subscriptionId,
        resourceGroup,
        location,
        stages: summaries,
        expectedSecs: expected,
        at: this.at(),
      },
    });
    await this.clock.sleep(scaled(3) * 1000);
    this.emit(run, {
      event: "resourceGroupReady",
      data: { resourceGroupId: rg, at: this.at() },
    });

    const outcomes = new Map<string, Promise<boolean>>();
    const runStage = async (stage: SimStage, summary: StageSummary): Promise<boolean> => {
      const deps = await Promise.all(
        stage.dependsOn.map((d) => outcomes.get(d) ?? Promise.resolve(true)),
      );
      if (!deps.every(Boolean) || cancelled(run)) {
        return false;
      }
      const stageStart = this.clock.now();
      this.emit(run, {
        event: "stageStarted",
        data: {
          stage: stage.name,
          deploymentName: summary.deploymentName,
          correlationId: `corr-${run.id}-${stage.name}`,
          reattached: false,
          at: this.at(),
        },
      });
      const results = await Promise.all(
        summary.resources.map(async (item, i): Promise<ErrorReport | null> => {
          // Azure starts a stage's independent resources a moment apart, not all at once.
          await this.clock.sleep(i * scaled(1) * 1000);
          const t0 = this.clock.now();
          this.emit(run, {
            event: "resourceStarted",
            data: { stage: stage.name, ...item, at: this.at() },
          });
          const fails =
            this.options.failResource?.replaceAll("{n}", name) === item.resourceName &&
            !this.failedOnce.has(item.resourceId);
          const secs = fails ? item.expectedSecs * 0.4 : item.expectedSecs;
          await this.clock.sleep((secs * 1000) / 2);
          if (!cancelled(run)) {
            this.emit(run, {
              event: "resourceProgress",
              data: {
                stage: stage.name,
                resourceId: item.resourceId,
                provisioningState: "Creating",
                at: this.at(),
              },
            });
          }
          await this.clock.sleep((secs * 1000) / 2);
          done += 1;
          if (fails) {
            this.failedOnce.add(item.resourceId);
            const error = failure(item.resourceType, item.resourceName, location);
            this.emit(run, {
              event: "resourceFailed",
              data: {
                stage: stage.name,
                resourceId: item.resourceId,
                resourceType: item.resourceType,
                error,
                at: this.at(),
              },
            });
            this.progress(run, done, total, started, expected);
            return error;
          }
          this.emit(run, {
            event: "resourceSucceeded",
            data: {
              stage: stage.name,
              resourceId: item.resourceId,
              elapsedSecs: (this.clock.now() - t0) / 1000,
              at: this.at(),
            },
          });
          this.progress(run, done, total, started, expected);
          return null;
        }),
      );
      const error = results.find((r) => r !== null) ?? null;
      if (cancelled(run)) {
        this.emit(run, { event: "stageCanceled", data: { stage: stage.name, at: this.at() } });
        return false;
      }
      if (error !== null) {
        this.emit(run, { event: "stageFailed", data: { stage: stage.name, error, at: this.at() } });
        return false;
      }
      this.emit(run, {
        event: "stageSucceeded",
        data: {
          stage: stage.name,
          outputs: stage.name === "outputs" ? instanceOutputs(name, location) : {},
          elapsedSecs: (this.clock.now() - stageStart) / 1000,
          at: this.at(),
        },
      });
      return true;
    };
    summaries.forEach((summary, i) => {
      const stage = run.stages[i];
      if (stage !== undefined) {
        outcomes.set(stage.name, runStage(stage, summary));
      }
    });
    const all = await Promise.all(outcomes.values());
    const ok = all.every(Boolean);
    const failedStage = ok ? null : run.journal.find((e) => e.event === "stageFailed");
    run.finished = true;
    this.emit(run, {
      event: "runFinished",
      data: {
        outcome: ok ? "succeeded" : cancelled(run) ? "canceled" : "failed",
        outputs: ok ? instanceOutputs(name, location) : null,
        error: failedStage?.event === "stageFailed" ? failedStage.data.error : null,
        elapsedSecs: (this.clock.now() - started) / 1000,
        at: this.at(),
      },
    });
  }

  private progress(
    run: MockRun,
    done: number,
    total: number,
    started: number,
    expected: number,
  ): void {
    const elapsedSecs = (this.clock.now() - started) / 1000;
    this.emit(run, {
      event: "progress",
      data: { done, total, elapsedSecs, etaSecs: Math.max(0, expected - elapsedSecs) },
    });
  }

  private emit(run: MockRun, event: DeploymentEvent): void {
    const envelope: EventEnvelope = { seq: run.journal.length + 1, ...event };
    run.journal.push(envelope);
    run.listener?.(envelope);
  }

  private elapsed(run: MockRun): number {
    const first = run.journal[0];
    return first?.event === "runStarted"
      ? (this.clock.now() - Date.parse(first.data.at)) / 1000
      : 0;
  }

  private at(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function cancelled(run: MockRun): boolean {
  return run.cancelled;
}

function criticalPath(stages: readonly StageSummary[]): number {
  const finish = new Map<string, number>();
  for (const s of stages) {
    const start = Math.max(0, ...s.dependsOn.map((d) => finish.get(d) ?? 0));
    finish.set(s.name, start + s.expectedSecs);
  }
  return Math.max(0, ...finish.values());
}

function instanceOutputs(name: string, location: string): Record<string, string> {
  return {
    instanceUrl: `https://${name}.${location}.cloudapp.azure.com`,
    mysqlHost: `${name}-mysql.mysql.database.azure.com`,
    blobEndpoint: `https://${name}data.blob.core.windows.net/`,
    keyVaultUri: `https://${name}-kv.vault.azure.net/`,
    registryLoginServer: `${name}acr.azurecr.io`,
    kubernetesApi: `https://${name}-aks-dns.hcp.${location}.azmk8s.io:443`,
  };
}

function failure(type: string, name: string, location: string): ErrorReport {
  if (type === "Microsoft.ContainerService/managedClusters") {
    return {
      code: "QuotaExceeded",
      message: `The cluster ${name} needs 12 more vCPUs of the standardDSv5Family quota in ${location} than the subscription has.`,
      details: {
        code: "QuotaExceeded",
        message:
          "Operation could not be completed as it results in exceeding approved standardDSv5Family Cores quota.",
        details: [],
        additionalInfo: [],
      },
      remediation: {
        message: `Request 12 more standardDSv5Family vCPUs in ${location} (Help + support > Quotas), or choose a smaller preset, then retry.`,
        link: "https://learn.microsoft.com/azure/quotas/per-vm-quota-requests",
        quota: { quota: "standardDSv5Family", location, limit: 10, currentUsage: 0 },
      },
    };
  }
  return {
    code: "Conflict",
    message: `Azure reported a conflict while creating ${name}: another operation was still running on it.`,
    remediation: {
      message: "Wait a minute and retry: the conflicting operation finishes on its own.",
    },
  };
}

const CHARSETS: Record<string, RegExp> = {
  lowerAlnumHyphen: /^[a-z0-9-]*$/,
  alnum: /^[A-Za-z0-9]*$/,
};

/** The input checks the mock can make: type, allowed, bounds, lengths, charset, known rules. */
export function checkInputs(manifest: Manifest, values: InputValues): InputError[] {
  const errors: InputError[] = [];
  const add = (input: string, rule: string, message: string): void => {
    errors.push({ input, rule, message });
  };
  for (const def of manifest.inputs) {
    const v = values[def.name];
    const label = def.label;
    if (v === undefined || v === "") {
      if (def.default == null && def.generate == null) {
        add(def.name, "required", `${label} is required.`);
      }
      continue;
    }
    if (def.type === "int") {
      if (typeof v !== "number" || !Number.isInteger(v)) {
        add(def.name, "type", `${label} must be a whole number.`);
        continue;
      }
      if (def.min != null && v < def.min) {
        add(
          def.name,
          "min",
          `${label} must be at least ${def.min}${def.unit ? ` ${def.unit}` : ""}.`,
        );
      }
      if (def.max != null && v > def.max) {
        add(
          def.name,
          "max",
          `${label} must be at most ${def.max}${def.unit ? ` ${def.unit}` : ""}.`,
        );
      }
    }
    if (def.allowed != null && !def.allowed.includes(v)) {
      add(def.name, "allowed", `${label} must be one of ${def.allowed.map(String).join(", ")}.`);
    }
    if (typeof v === "string" && def.type !== "int") {
      if (def.minLength != null && v.length < def.minLength) {
        add(def.name, "minLength", `${label} must be at least ${def.minLength} characters long.`);
      }
      if (def.maxLength != null && v.length > def.maxLength) {
        add(def.name, "maxLength", `${label} must be at most ${def.maxLength} characters long.`);
      }
      const charset = def.charset == null ? undefined : CHARSETS[def.charset];
      if (charset !== undefined && !charset.test(v)) {
        add(
          def.name,
          "charset",
          `${label} may only contain ${def.charset === "alnum" ? "letters and digits" : "lowercase letters, digits and hyphens"}.`,
        );
      }
    }
  }
  // The cross-input rules the engine evaluates as ARM expressions, written out for the mock;
  // the messages are the manifest's own.
  const rule = (input: string, ok: boolean): void => {
    if (!ok) {
      const def = manifest.inputs.find((i) => i.name === input);
      add(input, "rule", def?.rules?.[0]?.message ?? `${input} breaks a rule.`);
    }
  };
  const n = (k: string): number => (typeof values[k] === "number" ? values[k] : NaN);
  if (!Number.isNaN(n("userNodeMin")) && !Number.isNaN(n("userNodeMax"))) {
    rule("userNodeMax", n("userNodeMax") >= n("userNodeMin"));
    if (!Number.isNaN(n("userNodeCount"))) {
      rule(
        "userNodeCount",
        n("userNodeCount") >= n("userNodeMin") && n("userNodeCount") <= n("userNodeMax"),
      );
    }
  }
  rule(
    "mysqlHighAvailability",
    values.mysqlHighAvailability !== true || !String(values.mysqlSku).startsWith("Standard_B"),
  );
  return errors;
}

/** A rough monthly cost from the price snapshot (the engine evaluates the manifest's formulas). */
export function estimate(manifest: Manifest, values: InputValues): CostEstimate {
  const region = String(values.location ?? "eastus");
  const prices = manifest.prices.regions[region] ?? Object.values(manifest.prices.regions)[0] ?? {};
  const p = (key: string): number => prices[key] ?? 0;
  const num = (k: string): number => (typeof values[k] === "number" ? values[k] : 0);
  const str = (k: string): string => String(values[k] ?? "");
  const hours = 730;
  const nodes = num("systemNodeCount") + num("userNodeCount");
  const lines = [
    {
      label: "AKS system nodes",
      category: "compute" as const,
      stage: "compute",
      monthly: num("systemNodeCount") * hours * p(`vm/${str("systemNodeVmSize")}`),
    },
    {
      label: "AKS workload nodes",
      category: "compute" as const,
      stage: "compute",
      monthly: num("userNodeCount") * hours * p(`vm/${str("userNodeVmSize")}`),
    },
    {
      label: "AKS node OS disks",
      category: "compute" as const,
      stage: "compute",
      monthly: nodes * p("disk/P10"),
    },
    {
      label: "AKS uptime SLA",
      category: "compute" as const,
      stage: "compute",
      monthly: str("clusterTier") === "Standard" ? hours * p("aks/standardTier") : 0,
    },
    {
      label: "MySQL server",
      category: "database" as const,
      stage: "data",
      monthly:
        (values.mysqlHighAvailability === true ? 2 : 1) * hours * p(`mysql/${str("mysqlSku")}`),
    },
    {
      label: "MySQL storage",
      category: "database" as const,
      stage: "data",
      monthly: num("mysqlStorageGb") * p("mysqlStorage"),
    },
    {
      label: "Blob storage (100 GB)",
      category: "storage" as const,
      stage: "data",
      monthly: 100 * p(`blob/${str("storageRedundancy")}`),
    },
    {
      label: "Container registry",
      category: "storage" as const,
      stage: "compute",
      monthly: 30 * p(`registry/${str("registrySku")}`),
    },
    {
      label: "Load balancer and public IP",
      category: "network" as const,
      stage: "outputs",
      monthly: hours * (p("loadBalancer/standard") + p("publicIp/standardStatic")),
    },
    {
      label: "Private DNS zone",
      category: "network" as const,
      stage: "data",
      monthly: p("privateDns/zone"),
    },
  ].map((l) => ({ ...l, monthly: Math.round(l.monthly * 100) / 100 }));
  const byCategory = { compute: 0, database: 0, storage: 0, network: 0 };
  for (const l of lines) {
    byCategory[l.category] += l.monthly;
  }
  return {
    currency: manifest.prices.currency,
    priceDate: manifest.prices.date,
    source: `${manifest.prices.source} (rough estimate of the mock backend)`,
    lines,
    byCategory,
    total: lines.reduce((s, l) => s + l.monthly, 0),
  };
}
