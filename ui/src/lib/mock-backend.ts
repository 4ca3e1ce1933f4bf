/**
 * A {@link Backend} that simulates the desktop shell and Azure in the browser, for browser tests
 * and UI work: the real bundled manifest, input checks from its rules, a rough cost from its
 * price snapshot, sign-in prompts, tenants and subscriptions, preflight with fixes, what-if, and
 * deployments, updates and teardowns that emit the engine's events on timers (network,
 * monitoring and secrets in parallel, then data, compute, endpoints). Every event goes to a
 * per-run journal first, so `deploymentSnapshot`, `attach` and `resume` behave as after a reload.
 *
 * Hooks (read from the page when the mock is built without options; none in unit tests):
 * - `?speed=N` runs the simulated Azure N times faster than Azure whatever speed the wizard
 *   asks for (the demo asks {@link DEMO_SPEED}: a whole install takes about 20 s here), and
 *   shrinks every other wait of the mock (sign-in, preflight, what-if, fixes) by N/40 too:
 *   `?speed=4000` runs a whole journey in a second or two.
 * - The state (session, journal, instances, simulated Azure) is kept in `localStorage` under
 *   `landfall.mock`. A reload of the page is a reload of the desktop app's window: the shell
 *   goes on watching (its runs carry on, `attach` answers true). A new tab is a restarted app:
 *   nobody watches the unfinished runs (`attach` answers false, `resume` carries them on), the
 *   demo is stopped (no session) and `interruptedDemo` offers its run. `startDemo` without
 *   `resume` starts afresh; `?fresh` clears the stored state.
 *
 * Scenarios:
 * - The default path (first tenant, its first subscription "Contoso Production", any preset)
 *   passes every preflight check; the large preset warns about the vCPU quota.
 * - "Contoso Sandbox" has Microsoft.ContainerService and Microsoft.DBforMySQL unregistered:
 *   preflight fails with a `registerProviders` fix that `applyFix` applies.
 * - A teardown without purge leaves the Key Vault soft-deleted: installing the same name again
 *   fails preflight with a `purgeDeletedVault` fix.
 * - A name deployed elsewhere fails the global name check (no fix: choose another name).
 * - `DemoOptions.failResource` fails that resource once (vCPU quota); the retry succeeds.
 * - Sign-in: browser (prompt with the URL, done 2 s later), device code (code ABCD-EFGH after
 *   0.3 s, done 3 s later), service principal (the client secret `wrong` is refused), Azure CLI.
 * - `whatIf` compares the inputs with the instance's last ones; the cluster always shows a
 *   Modify (the autoscaler moved its workload node count, as in Azure).
 * - "Look in the subscription" finds `contoso01`, deployed from another computer, in
 *   Contoso Production.
 * - `saveSummary` and `saveSupportBundle` answer made-up paths; `openUrl` records the URL.
 *
 * The cost model and cross-input rules here are simplified stand-ins for the engine's, which
 * evaluates the manifest's ARM expressions: good enough to drive the UI, not to quote prices.
 */
import manifestJson from "../../../templates/data-platform/manifest.json";
import type {
  Check,
  CostEstimate,
  DeploymentEvent,
  ErrorReport,
  EventEnvelope,
  FixAction,
  InputError,
  InstanceState,
  InstanceView,
  Manifest,
  PreflightReport,
  Problem,
  RunKind,
  RunRecord,
  RunSnapshot,
  StageSummary,
  StageWhatIf,
  WhatIfGroup,
  WhatIfResource,
} from "$lib/bindings";
import type {
  Backend,
  CloudOption,
  DemoOptions,
  DeployRequest,
  InputsCheck,
  OnEvent,
  ReviewPlan,
  SavedFile,
  Session,
  SignInMethod,
  SignInPrompt,
  SubscriptionSummary,
  TenantSummary,
} from "$lib/backend";
import { emptyRun, foldEvents } from "$lib/deploy-view";
import type { InputValues } from "$lib/form";

/** The bundled manifest, as the engine would load it. */
export const MANIFEST = manifestJson as unknown as Manifest;

/** The speed "Try the demo" asks for: about 3 minutes for a whole install in the simulator. */
export const DEMO_SPEED = 40;

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

/** Stages whose deployment renders before deploy (no other stage's outputs needed). */
const RENDERS_EARLY = new Set(["network", "monitoring", "secrets"]);

/** Which resource (name pattern) and property each input changes, for what-if. */
const INPUT_TARGETS: Record<string, [string, string]> = {
  kubernetesVersion: ["{n}-aks", "properties.kubernetesVersion"],
  clusterTier: ["{n}-aks", "sku.tier"],
  systemNodeVmSize: ["{n}-aks", "properties.agentPoolProfiles[0].vmSize"],
  systemNodeCount: ["{n}-aks", "properties.agentPoolProfiles[0].count"],
  userNodeVmSize: ["{n}-aks", "properties.agentPoolProfiles[1].vmSize"],
  userNodeMin: ["{n}-aks", "properties.agentPoolProfiles[1].minCount"],
  userNodeMax: ["{n}-aks", "properties.agentPoolProfiles[1].maxCount"],
  userNodeCount: ["{n}-aks", "properties.agentPoolProfiles[1].count"],
  mysqlSku: ["{n}-mysql", "sku.name"],
  mysqlStorageGb: ["{n}-mysql", "properties.storage.storageSizeGB"],
  mysqlHighAvailability: ["{n}-mysql", "properties.highAvailability.mode"],
  mysqlBackupRetentionDays: ["{n}-mysql", "properties.backup.backupRetentionDays"],
  storageRedundancy: ["{n}data", "sku.name"],
  registrySku: ["{n}acr", "sku.name"],
  logRetentionDays: ["{n}-logs", "properties.retentionInDays"],
  keyVaultPublicNetworkAccess: ["{n}-kv", "properties.publicNetworkAccess"],
  vnetAddressPrefix: ["{n}-vnet", "properties.addressSpace.addressPrefixes[0]"],
};

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

/** Where the mock keeps its state between page loads (`localStorage` in the browser). */
export interface MockStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** How the mock is set up. */
export interface MockOptions {
  /** Overrides the demo speed the wizard asks for, and shrinks the mock's other waits. */
  speed?: number | null;
  /** Keeps the state between page loads; null keeps it in memory only. */
  storage?: MockStorage | null;
  /**
   * With stored state: true when the page was reloaded (the shell goes on watching its runs),
   * false when the app restarted (nothing watches; the demo is stopped).
   */
  reloaded?: boolean;
}

/** The options from the page: `?speed=N`, `?fresh`, and `localStorage`. None outside a browser. */
export function pageOptions(): MockOptions {
  if (typeof window === "undefined") {
    return { speed: null, storage: null };
  }
  const params = new URLSearchParams(window.location.search);
  const speed = Number(params.get("speed"));
  let storage: MockStorage | null;
  let reloaded = false;
  try {
    storage = window.localStorage;
    if (params.has("fresh")) {
      storage.removeItem(STORAGE_KEY);
    }
    // Session storage lives as long as the tab: set, it says this load is a reload.
    reloaded = window.sessionStorage.getItem(ALIVE_KEY) !== null;
    window.sessionStorage.setItem(ALIVE_KEY, "1");
  } catch {
    storage = null;
  }
  return { speed: Number.isFinite(speed) && speed > 0 ? speed : null, storage, reloaded };
}

const STORAGE_KEY = "landfall.mock";
const ALIVE_KEY = "landfall.mock.alive";

const CLOUDS: CloudOption[] = [
  { name: "AzureCloud", label: "Azure (global)" },
  { name: "AzureUSGovernment", label: "Azure US Government" },
  { name: "AzureChinaCloud", label: "Azure operated by 21Vianet (China)" },
];

const CONTOSO = "3f1c5d2e-8a4b-4c6d-9e7f-0a1b2c3d4e5f";
const FABRIKAM = "9b7e2a41-5c3d-4e8f-a1b2-c3d4e5f60718";

const TENANTS: Omit<TenantSummary, "current">[] = [
  { tenantId: CONTOSO, displayName: "Contoso", defaultDomain: "contoso.onmicrosoft.com" },
  {
    tenantId: FABRIKAM,
    displayName: "Fabrikam (guest)",
    defaultDomain: "fabrikam.onmicrosoft.com",
  },
];

const PRODUCTION = "5e4d3c2b-1a09-4f8e-8d7c-6b5a49381a2b";
const SANDBOX = "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d";

const SUBSCRIPTIONS: SubscriptionSummary[] = [
  {
    subscriptionId: PRODUCTION,
    displayName: "Contoso Production",
    tenantId: CONTOSO,
    state: "Enabled",
  },
  { subscriptionId: SANDBOX, displayName: "Contoso Sandbox", tenantId: CONTOSO, state: "Enabled" },
  {
    subscriptionId: "7c6b5a49-3827-4160-95e4-d3c2b1a09f8e",
    displayName: "Contoso Dev/Test (expired)",
    tenantId: CONTOSO,
    state: "Disabled",
  },
  {
    subscriptionId: "2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b",
    displayName: "Contoso Pay-As-You-Go",
    tenantId: CONTOSO,
    state: "PastDue",
  },
  {
    subscriptionId: "8f9e0d1c-2b3a-4495-8677-1a2b3c4d5e6f",
    displayName: "Fabrikam Shared Services",
    tenantId: FABRIKAM,
    state: "Enabled",
  },
  {
    subscriptionId: "4a5b6c7d-8e9f-40a1-b2c3-d4e5f6a7b8c9",
    displayName: "Fabrikam Partner Lab",
    tenantId: FABRIKAM,
    state: "Warned",
  },
];

/** Providers the platform needs; the sandbox lacks the last two. */
const PROVIDERS = [
  "Microsoft.Network",
  "Microsoft.OperationalInsights",
  "Microsoft.KeyVault",
  "Microsoft.Storage",
  "Microsoft.ContainerRegistry",
  "Microsoft.ContainerService",
  "Microsoft.DBforMySQL",
];

/** The instance "Look in the subscription" finds, deployed from another computer. */
const FOREIGN: InstanceView = {
  name: "contoso01",
  subscriptionId: PRODUCTION,
  resourceGroup: "rg-contoso01",
  location: "westeurope",
  version: "0.9.0",
  state: null,
  source: "azure",
  lastRunId: null,
};

/** Regional vCPU quota per VM family in the simulated subscriptions. */
const VCPU_LIMIT = 200;

/** What the mock remembers of an instance. */
interface MockInstance {
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  state: InstanceState;
  /** Its inputs, secrets left out. */
  values: InputValues;
  preset: string | null;
  lastRunId: string | null;
}

/** A run as stored. */
interface StoredRun {
  id: string;
  kind: RunKind;
  instance: string;
  request: DeployRequest;
  stages: SimStage[];
  journal: EventEnvelope[];
  purge: boolean;
  /** Run in the demo (the shell keeps the demo's journal apart from the real one). */
  demo: boolean;
  /** The window stopped watching (missing in state stored by older versions). */
  detached?: boolean;
}

/** A run with what lives only in this page. */
interface MockRun extends StoredRun {
  /** The window stopped watching: events wait in `pending` until `resume`. */
  detached: boolean;
  listener: OnEvent | null;
  /** A simulation is running for it in this page. */
  live: boolean;
  pending: DeploymentEvent[];
  cancelled: boolean;
}

/** The mock's whole state as stored between page loads. */
interface MockState {
  session: Omit<Session, "unfinishedRuns"> | null;
  options: DemoOptions;
  counter: number;
  runs: StoredRun[];
  instances: MockInstance[];
  unregistered: Record<string, string[]>;
  deletedVaults: { name: string; location: string }[];
  failedOnce: string[];
  removedForeign: boolean;
}

function freshState(): MockState {
  return {
    session: null,
    options: { speed: DEMO_SPEED, failResource: null, resume: false },
    counter: 0,
    runs: [],
    instances: [],
    unregistered: { [SANDBOX]: ["Microsoft.ContainerService", "Microsoft.DBforMySQL"] },
    deletedVaults: [],
    failedOnce: [],
    removedForeign: false,
  };
}

function problem(code: string, message: string, remediation?: string): Problem {
  return {
    code,
    message,
    details: null,
    remediation: remediation === undefined ? null : { message: remediation },
  };
}

/** Rejects as the Tauri shell does: with the command's `Problem`, a plain object. */
function reject(p: Problem): Promise<never> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the Backend contract rejects with Problem, as Tauri's invoke does
  return Promise.reject(p);
}

/** The instance name of a request. */
function nameOf(request: DeployRequest): string {
  return typeof request.values.name === "string" ? request.values.name : "";
}

/** The request with the default resource group filled in and secrets left out. */
function settled(request: DeployRequest): DeployRequest {
  const name = nameOf(request);
  const values: InputValues = {};
  for (const [k, v] of Object.entries(request.values)) {
    const def = MANIFEST.inputs.find((i) => i.name === k);
    if (def?.type !== "secret") {
      values[k] = v;
    }
  }
  return {
    target: {
      ...request.target,
      resourceGroup:
        request.target.resourceGroup.trim() === ""
          ? `rg-${name}`
          : request.target.resourceGroup.trim(),
    },
    values,
    preset: request.preset,
  };
}

/** Whether a run's journal holds its end (stopping to watch is not an end). */
function ended(run: StoredRun): boolean {
  return run.journal.some((e) => e.event === "runFinished" && e.data.outcome !== "detached");
}

/** The simulated backend. */
export class MockBackend implements Backend {
  /** URLs `openUrl` was asked to open, latest last. */
  readonly opened: string[] = [];
  private state: MockState;
  private readonly runs = new Map<string, MockRun>();
  private readonly speedOverride: number | null;
  private readonly storage: MockStorage | null;
  private epoch = 0;
  private signInCancel: (() => void) | null = null;

  constructor(
    private readonly clock: MockClock = realClock,
    options: MockOptions = pageOptions(),
  ) {
    this.speedOverride = options.speed ?? null;
    this.storage = options.storage ?? null;
    this.state = this.load();
    for (const stored of this.state.runs) {
      this.runs.set(stored.id, this.revive(stored));
    }
    if (this.storage !== null && options.reloaded !== true && this.state.session?.demo === true) {
      // A restarted app: the simulated Azure stopped with it.
      this.state.session = null;
      this.save();
    }
    if (options.reloaded === true && this.state.session !== null) {
      // A reloaded window: the shell never stopped watching its runs.
      for (const run of this.runs.values()) {
        if (!ended(run) && !run.detached) {
          void this.simulate(run, true);
        }
      }
    }
  }

  /** Options of the current demo. */
  get options(): DemoOptions {
    return this.state.options;
  }

  // ---- sign-in -------------------------------------------------------------------------------

  session(): Promise<Session | null> {
    const s = this.state.session;
    return Promise.resolve(s === null ? null : { ...s, unfinishedRuns: this.unfinishedRuns() });
  }

  clouds(): Promise<CloudOption[]> {
    return Promise.resolve(structuredClone(CLOUDS));
  }

  startDemo(options: DemoOptions): Promise<Session> {
    this.stopSimulations();
    if (!options.resume) {
      this.state = freshState();
      this.runs.clear();
    }
    this.state.options = { ...options };
    this.state.session = {
      demo: true,
      who: "alex@contoso.example",
      tenantId: CONTOSO,
      cloud: "AzureCloud",
      method: "demo",
    };
    this.save();
    return this.session().then((s) => s ?? reject(problem("internal", "No demo session.")));
  }

  interruptedDemo(): Promise<string | null> {
    const open = [...this.runs.values()].filter(
      (r) => r.demo && !ended(r) && (!r.live || r.detached),
    );
    return Promise.resolve(open.at(-1)?.id ?? null);
  }

  async signIn(method: SignInMethod, onPrompt: (p: SignInPrompt) => void): Promise<Session> {
    if (this.signInCancel !== null) {
      return reject(problem("Conflict", "A sign-in is already in progress: finish or cancel it."));
    }
    let cancelled = false;
    const cancel = new Promise<never>((_, rejectCancel) => {
      this.signInCancel = () => {
        cancelled = true;
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the Backend contract rejects with Problem
        rejectCancel(problem("cancelled", "Sign-in cancelled."));
      };
    });
    const prompt = (p: SignInPrompt): void => {
      if (!cancelled) {
        onPrompt(p);
      }
    };
    try {
      const who = await Promise.race([this.authenticate(method, prompt), cancel]);
      this.stopSimulations();
      this.state.session = {
        demo: false,
        who,
        tenantId:
          method.kind === "servicePrincipal"
            ? method.tenantId
            : method.tenant !== null && /^[0-9a-f-]{36}$/i.test(method.tenant)
              ? method.tenant
              : CONTOSO,
        cloud: method.cloud,
        method: {
          browser: "browser",
          deviceCode: "device code",
          servicePrincipal: "service principal (secret)",
          azureCli: "Azure CLI",
        }[method.kind],
      };
      this.save();
      const session = await this.session();
      if (session === null) {
        return await reject(problem("internal", "No session after sign-in."));
      }
      return session;
    } finally {
      this.signInCancel = null;
    }
  }

  private async authenticate(
    method: SignInMethod,
    prompt: (p: SignInPrompt) => void,
  ): Promise<string> {
    if (!CLOUDS.some((c) => c.name === method.cloud)) {
      return reject(problem("InvalidRequest", `Cloud ${method.cloud} is not one this app knows.`));
    }
    switch (method.kind) {
      case "browser": {
        await this.wait(300);
        const tenant = method.tenant ?? "organizations";
        prompt({
          kind: "openBrowser",
          url: `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/authorize?client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A53117&scope=https%3A%2F%2Fmanagement.azure.com%2F.default`,
        });
        await this.wait(2000);
        return "alex@contoso.com";
      }
      case "deviceCode":
        await this.wait(300);
        prompt({
          kind: "deviceCode",
          userCode: "ABCD-EFGH",
          verificationUri: "https://microsoft.com/devicelogin",
          message:
            "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate.",
        });
        await this.wait(3000);
        return "alex@contoso.com";
      case "servicePrincipal":
        await this.wait(600);
        if (method.clientSecret === "wrong") {
          return reject({
            code: "Unauthorized",
            message: `Microsoft refused the client secret of the app ${method.clientId} (AADSTS7000215: invalid client secret provided).`,
            details: null,
            remediation: {
              message:
                "Check that you copied the secret's value, not its ID, and that it has not expired (App registrations > Certificates & secrets).",
              link: "https://learn.microsoft.com/entra/identity-platform/howto-create-service-principal-portal",
            },
          });
        }
        return method.clientId;
      case "azureCli":
        await this.wait(400);
        return "alex@contoso.com";
    }
  }

  cancelSignIn(): Promise<void> {
    this.signInCancel?.();
    return Promise.resolve();
  }

  signOut(): Promise<void> {
    this.stopSimulations();
    this.state.session = null;
    this.save();
    return Promise.resolve();
  }

  listTenants(): Promise<TenantSummary[]> {
    const session = this.state.session;
    if (session === null) {
      return reject(problem("Unauthorized", "Sign in (or start the demo) first."));
    }
    const known = TENANTS.some((t) => t.tenantId === session.tenantId);
    return Promise.resolve(
      TENANTS.map((t) => ({
        ...t,
        current: known ? t.tenantId === session.tenantId : t.tenantId === CONTOSO,
      })),
    );
  }

  listSubscriptions(): Promise<SubscriptionSummary[]> {
    if (this.state.session === null) {
      return reject(problem("Unauthorized", "Sign in (or start the demo) first."));
    }
    return Promise.resolve(structuredClone(SUBSCRIPTIONS));
  }

  // ---- inputs, review, preflight ------------------------------------------------------------

  loadManifest(): Promise<Manifest> {
    return Promise.resolve(structuredClone(MANIFEST));
  }

  validateInputs(values: InputValues): Promise<InputsCheck> {
    const errors = checkInputs(MANIFEST, values);
    const cost = errors.some((e) => e.input !== "name") ? null : estimate(MANIFEST, values);
    return Promise.resolve({ valid: errors.length === 0, errors, cost });
  }

  async review(request: DeployRequest): Promise<ReviewPlan> {
    const invalid = inputsProblem(request.values);
    if (invalid !== null) {
      return reject(invalid);
    }
    await this.wait(150);
    const req = settled(request);
    const stages = this.summaries(req, [...DEMO_STAGES]);
    return {
      resourceGroup: req.target.resourceGroup,
      location: req.target.location,
      stages,
      cost: estimate(MANIFEST, req.values),
      expectedSecs: this.scaled(3) + criticalPath(stages),
    };
  }

  async preflight(request: DeployRequest): Promise<PreflightReport> {
    if (this.state.session === null) {
      return reject(problem("Unauthorized", "Sign in (or start the demo) first."));
    }
    await this.wait(700);
    return { checks: this.checks(settled(request)) };
  }

  async applyFix(request: DeployRequest, action: FixAction): Promise<PreflightReport> {
    await this.wait(800);
    const req = settled(request);
    switch (action.kind) {
      case "registerProviders": {
        const left = this.state.unregistered[req.target.subscriptionId] ?? [];
        this.state.unregistered[req.target.subscriptionId] = left.filter(
          (p) => !action.args.includes(p),
        );
        break;
      }
      case "purgeDeletedVault":
        this.state.deletedVaults = this.state.deletedVaults.filter(
          (v) => v.name !== action.args.name,
        );
        break;
    }
    this.save();
    return this.preflight(request);
  }

  async whatIf(request: DeployRequest): Promise<StageWhatIf[]> {
    const req = settled(request);
    await this.wait(800);
    const name = nameOf(req);
    const before = this.state.instances.find(
      (i) => i.name === name && i.state !== "deleted",
    )?.values;
    const changed = new Map<string, string[]>();
    if (before !== undefined) {
      for (const [input, [resource, path]] of Object.entries(INPUT_TARGETS)) {
        if (before[input] !== req.values[input]) {
          const r = resource.replaceAll("{n}", name);
          changed.set(r, [...(changed.get(r) ?? []), path]);
        }
      }
      // Azure's what-if reports the node count the autoscaler moved as a change, even
      // when the template's count did not change.
      const aks = `${name}-aks`;
      if (!changed.has(aks)) {
        changed.set(aks, ["properties.agentPoolProfiles[1].count"]);
      }
    }
    return this.summaries(req, [...DEMO_STAGES]).map((stage) => {
      const byType = new Map<string, WhatIfResource[]>();
      for (const item of stage.resources) {
        const type =
          before === undefined ? "Create" : changed.has(item.resourceName) ? "Modify" : "NoChange";
        const res: WhatIfResource = {
          resourceId: item.resourceId,
          resourceType: item.resourceType,
          name: item.resourceName,
        };
        if (type === "Modify") {
          res.changedProperties = changed.get(item.resourceName) ?? [];
        }
        byType.set(type, [...(byType.get(type) ?? []), res]);
      }
      const order = ["Create", "Modify", "NoChange"];
      const groups: WhatIfGroup[] = [...byType.entries()]
        .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
        .map(([changeType, resources]) => ({ changeType, count: resources.length, resources }));
      const words: Record<string, string> = {
        Create: "to create",
        Modify: "to modify",
        NoChange: "no change",
      };
      return {
        stage: stage.name,
        summary: groups.map((g) => `${g.count} ${words[g.changeType] ?? g.changeType}`),
        groups,
        error: null,
      };
    });
  }

  private checks(req: DeployRequest): Check[] {
    const name = nameOf(req);
    const { subscriptionId, location } = req.target;
    const sub = SUBSCRIPTIONS.find((s) => s.subscriptionId === subscriptionId);
    const checks: Check[] = [];
    const errors = checkInputs(MANIFEST, req.values);
    checks.push(
      errors.length === 0
        ? { id: "inputs", label: "Inputs", status: "pass", message: "Every input is valid." }
        : {
            id: "inputs",
            label: "Inputs",
            status: "fail",
            message: errors.map((e) => e.message).join(" "),
            fix: { message: "Go back to Basics or Sizing and correct them." },
          },
    );
    checks.push(
      sub?.state === "Enabled"
        ? {
            id: "subscription",
            label: "Subscription",
            status: "pass",
            message: `${sub.displayName} is enabled and you can create resources in it (Owner).`,
          }
        : {
            id: "subscription",
            label: "Subscription",
            status: "fail",
            message:
              sub === undefined
                ? `The subscription ${subscriptionId} is not one you can reach.`
                : `${sub.displayName} is ${sub.state}: only Enabled subscriptions can be deployed to.`,
            fix: { message: "Go back to Subscription and choose another one." },
          },
    );
    const missing = this.state.unregistered[subscriptionId] ?? [];
    checks.push(
      missing.length === 0
        ? {
            id: "providers",
            label: "Resource providers",
            status: "pass",
            message: `The ${PROVIDERS.length} resource providers the platform needs are registered.`,
          }
        : {
            id: "providers",
            label: "Resource providers",
            status: "fail",
            message: `${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} not registered in ${sub?.displayName ?? subscriptionId}: Azure would refuse to create the ${missing.length === 1 ? "resources it provides" : "cluster and the database"}.`,
            fix: {
              message:
                "Register them in the subscription (about a minute; needs the Contributor role).",
              link: "https://learn.microsoft.com/azure/azure-resource-manager/management/resource-providers-and-types",
              action: { kind: "registerProviders", args: [...missing] },
            },
          },
    );
    checks.push(quotaCheck(req.values, location));
    const owner = this.state.instances.find((i) => i.name === name && i.state !== "deleted");
    const sameTarget =
      owner?.subscriptionId === subscriptionId && owner.resourceGroup === req.target.resourceGroup;
    const storageName = `${name}data`;
    checks.push(
      owner === undefined || sameTarget
        ? {
            id: `name:${storageName}`,
            label: "Global names",
            status: "pass",
            message: `The names ${storageName}, ${name}-kv and ${name}acr are free in Azure.`,
          }
        : {
            id: `name:${storageName}`,
            label: "Global names",
            status: "fail",
            message: `The storage account name ${storageName} is taken: the instance ${name} in ${owner.resourceGroup} uses it.`,
            fix: { message: "Go back to Basics and choose another instance name." },
          },
    );
    const vault = this.state.deletedVaults.find((v) => v.name === `${name}-kv`);
    checks.push(
      vault === undefined
        ? {
            id: `vault:${name}-kv`,
            label: "Key Vault name",
            status: "pass",
            message: `No deleted Key Vault holds the name ${name}-kv.`,
          }
        : {
            id: `vault:${name}-kv`,
            label: "Key Vault name",
            status: "fail",
            message: `A deleted Key Vault named ${vault.name} is kept for 90 days after its deletion, so the name cannot be used again yet.`,
            fix: {
              message:
                "Purge the deleted vault (it cannot be recovered afterwards), or choose another instance name.",
              link: "https://learn.microsoft.com/azure/key-vault/general/key-vault-recovery",
              action: { kind: "purgeDeletedVault", args: { ...vault } },
            },
          },
    );
    for (const stage of this.summaries(req, [...DEMO_STAGES])) {
      if (RENDERS_EARLY.has(stage.name)) {
        const exists = sameTarget;
        checks.push({
          id: `whatIf:${stage.name}`,
          label: `What-if: ${stage.label}`,
          status: "pass",
          message: `Azure accepted the ${stage.label.toLowerCase()} deployment and predicts ${stage.resources.length} ${exists ? "unchanged" : "to create"}.`,
          whatIf: [
            {
              changeType: exists ? "NoChange" : "Create",
              count: stage.resources.length,
              resources: stage.resources.map((r) => ({
                resourceId: r.resourceId,
                resourceType: r.resourceType,
                name: r.resourceName,
              })),
            },
          ],
        });
      } else {
        const labels = stage.dependsOn
          .map((d) => DEMO_STAGES.find((s) => s.name === d)?.label.toLowerCase() ?? d)
          .join(" and ");
        checks.push({
          id: `whatIf:${stage.name}`,
          label: `What-if: ${stage.label}`,
          status: "skipped",
          message: `Azure can predict this stage only once ${labels} exist: it needs their outputs.`,
        });
      }
    }
    return checks;
  }

  // ---- runs ----------------------------------------------------------------------------------

  deploy(request: DeployRequest, onEvent: OnEvent): Promise<string> {
    const invalid = this.refuseRun(request);
    if (invalid !== null) {
      return reject(invalid);
    }
    return Promise.resolve(this.begin(settled(request), [...DEMO_STAGES], "install", onEvent));
  }

  update(request: DeployRequest, onEvent: OnEvent): Promise<string> {
    const invalid = this.refuseRun(request);
    if (invalid !== null) {
      return reject(invalid);
    }
    const req = settled(request);
    const name = nameOf(req);
    const instance = this.state.instances.find((i) => i.name === name && i.state === "deployed");
    if (instance === undefined) {
      return reject(problem("NotFound", `No deployed instance named ${name} to update.`));
    }
    req.target = {
      subscriptionId: instance.subscriptionId,
      resourceGroup: instance.resourceGroup,
      location: instance.location,
    };
    // An update redeploys every stage; only what changed takes Azure's time.
    const changed = new Set(
      Object.entries(INPUT_TARGETS)
        .filter(([input]) => instance.values[input] !== req.values[input])
        .map(([, [resource]]) => resource),
    );
    changed.add("{n}-aks");
    const stages = DEMO_STAGES.map((s) => ({
      ...s,
      resources: s.resources.map((r) => ({
        ...r,
        secs: changed.has(r.name) ? Math.round(r.secs * 0.4) : 4,
      })),
    }));
    return Promise.resolve(this.begin(req, stages, "update", onEvent));
  }

  teardown(instance: string, purge: boolean, onEvent: OnEvent): Promise<string> {
    if (this.state.session === null) {
      return reject(problem("Unauthorized", "Sign in (or start the demo) first."));
    }
    let known = this.state.instances.find((i) => i.name === instance && i.state !== "deleted");
    if (known === undefined && instance === FOREIGN.name && !this.state.removedForeign) {
      known = {
        name: FOREIGN.name,
        subscriptionId: FOREIGN.subscriptionId,
        resourceGroup: FOREIGN.resourceGroup,
        location: FOREIGN.location,
        state: "deployed",
        values: { name: FOREIGN.name, location: FOREIGN.location },
        preset: null,
        lastRunId: null,
      };
      this.state.instances.push(known);
      this.state.removedForeign = true;
    }
    if (known === undefined) {
      return reject(problem("NotFound", `No instance named ${instance} to tear down.`));
    }
    if (known.state === "deploying" || known.state === "tearingDown") {
      return reject(
        problem(
          "Conflict",
          `${instance} has a run in progress: wait for it to end, or cancel it, first.`,
        ),
      );
    }
    const stages: SimStage[] = [
      {
        name: "delete",
        label: "Delete the resource group",
        dependsOn: [],
        resources: [
          { type: "Microsoft.Resources/resourceGroups", name: known.resourceGroup, secs: 240 },
        ],
      },
    ];
    if (purge) {
      stages.push({
        name: "purge",
        label: "Purge the deleted Key Vault",
        dependsOn: ["delete"],
        resources: [{ type: "Microsoft.KeyVault/deletedVaults", name: "{n}-kv", secs: 60 }],
      });
    }
    const req: DeployRequest = {
      target: {
        subscriptionId: known.subscriptionId,
        resourceGroup: known.resourceGroup,
        location: known.location,
      },
      values: { ...known.values },
      preset: known.preset,
    };
    return Promise.resolve(this.begin(req, stages, "teardown", onEvent, purge));
  }

  deploymentSnapshot(runId: string): Promise<RunSnapshot> {
    const run = this.runs.get(runId);
    if (run === undefined) {
      return reject(problem("NotFound", `No run ${runId} in the journal.`));
    }
    return Promise.resolve(foldEvents(emptyRun(), run.journal).snapshot);
  }

  attach(runId: string, afterSeq: number, onEvent: OnEvent): Promise<boolean> {
    const run = this.runs.get(runId);
    if (run === undefined) {
      return reject(problem("NotFound", `No run ${runId} in the journal.`));
    }
    for (const e of run.journal.filter((x) => x.seq > afterSeq)) {
      onEvent(e);
    }
    if (!run.live || run.detached) {
      return Promise.resolve(false);
    }
    run.listener = onEvent;
    return Promise.resolve(true);
  }

  cancel(runId: string, inAzure: boolean): Promise<void> {
    const run = this.runs.get(runId);
    if (run === undefined) {
      return reject(problem("NotFound", `No run ${runId} in the journal.`));
    }
    if (ended(run)) {
      return Promise.resolve();
    }
    if (inAzure) {
      run.cancelled = true;
      if (!run.live) {
        // Nothing simulates it in this page: Azure cancels what was running at once.
        const snapshot = foldEvents(emptyRun(), run.journal).snapshot;
        for (const s of snapshot.stages.filter((x) => x.state === "running")) {
          this.emit(run, { event: "stageCanceled", data: { stage: s.name, at: this.at() } });
        }
        this.finish(run, "canceled", null);
      }
    } else if (!run.detached) {
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
      run.detached = true;
      run.listener = null;
      this.save();
    }
    return Promise.resolve();
  }

  async retry(runId: string, onEvent: OnEvent): Promise<string> {
    const snapshot = await this.deploymentSnapshot(runId);
    const run = this.runs.get(runId);
    if (run === undefined || snapshot.outcome !== "failed") {
      return reject(problem("InvalidRequest", "Only a failed run can be retried."));
    }
    const done = new Set(snapshot.stages.filter((s) => s.state === "succeeded").map((s) => s.name));
    const stages = run.stages
      .filter((s) => !done.has(s.name))
      .map((s) => ({ ...s, dependsOn: s.dependsOn.filter((d) => !done.has(d)) }));
    return this.begin(
      run.request,
      stages,
      run.kind === "teardown" ? "teardown" : "retry",
      onEvent,
      run.purge,
    );
  }

  resume(runId: string, onEvent: OnEvent): Promise<void> {
    const run = this.runs.get(runId);
    if (run === undefined) {
      return reject(problem("NotFound", `No run ${runId} in the journal.`));
    }
    if (ended(run)) {
      return reject(problem("InvalidRequest", `The run ${runId} already ended.`));
    }
    run.listener = onEvent;
    run.detached = false;
    this.save();
    const pending = run.pending.splice(0);
    for (const e of pending) {
      this.emit(run, e);
    }
    if (!run.live && !ended(run)) {
      void this.simulate(run, true);
    }
    return Promise.resolve();
  }

  // ---- instances and files -------------------------------------------------------------------

  instances(subscriptionId: string | null, discover: boolean): Promise<InstanceView[]> {
    if (discover && (this.state.session === null || subscriptionId === null)) {
      return reject(
        problem("Unauthorized", "Sign in and choose a subscription to look for instances in it."),
      );
    }
    const views: InstanceView[] = this.state.instances
      .filter((i) => subscriptionId === null || i.subscriptionId === subscriptionId)
      .map((i) => ({
        name: i.name,
        subscriptionId: i.subscriptionId,
        resourceGroup: i.resourceGroup,
        location: i.location,
        version: MANIFEST.version,
        state: i.state,
        source: discover && i.state !== "deleted" ? "both" : "journal",
        lastRunId: i.lastRunId,
      }));
    if (
      discover &&
      subscriptionId === FOREIGN.subscriptionId &&
      !this.state.removedForeign &&
      !views.some((v) => v.name === FOREIGN.name)
    ) {
      views.push({ ...FOREIGN });
    }
    return Promise.resolve(views);
  }

  updateRequest(instance: string): Promise<DeployRequest> {
    const i = this.state.instances.find((x) => x.name === instance && x.state === "deployed");
    if (i === undefined) {
      return reject(
        problem(
          "NotFound",
          `This computer has no record of a deployed instance named ${instance}.`,
        ),
      );
    }
    return Promise.resolve({
      target: {
        subscriptionId: i.subscriptionId,
        resourceGroup: i.resourceGroup,
        location: i.location,
      },
      values: { ...i.values },
      preset: i.preset,
    });
  }

  async saveSupportBundle(runId: string): Promise<SavedFile | null> {
    if (!this.runs.has(runId)) {
      return reject(problem("NotFound", `No run ${runId} in the journal.`));
    }
    await this.wait(300);
    return { path: `/home/alex/Downloads/landfall-support-${runId}.zip` };
  }

  async saveSummary(runId: string): Promise<SavedFile | null> {
    const run = this.runs.get(runId);
    if (run === undefined) {
      return reject(problem("NotFound", `No run ${runId} in the journal.`));
    }
    await this.wait(200);
    return { path: `/home/alex/Documents/${run.instance}-install-summary.md` };
  }

  openUrl(url: string): Promise<void> {
    if (!url.startsWith("https://")) {
      return reject(problem("InvalidRequest", `Only https links are opened (not ${url}).`));
    }
    this.opened.push(url);
    return Promise.resolve();
  }

  // ---- simulation ----------------------------------------------------------------------------

  /** Why a run cannot start, or null. */
  private refuseRun(request: DeployRequest): Problem | null {
    if (this.state.session === null) {
      return problem("Unauthorized", "Sign in (or start the demo) first.");
    }
    return inputsProblem(request.values);
  }

  private begin(
    request: DeployRequest,
    stages: SimStage[],
    kind: RunKind,
    onEvent: OnEvent,
    purge = false,
  ): string {
    this.state.counter += 1;
    const id = `run-${String(this.state.counter).padStart(4, "0")}`;
    const run: MockRun = {
      id,
      kind,
      instance: nameOf(request),
      request,
      stages,
      journal: [],
      purge,
      demo: this.state.session?.demo ?? false,
      listener: onEvent,
      live: false,
      detached: false,
      pending: [],
      cancelled: false,
    };
    this.runs.set(id, run);
    this.state.runs.push(run);
    this.track(run, kind === "teardown" ? "tearingDown" : "deploying");
    void this.simulate(run, false);
    return id;
  }

  /** Records the instance's state as the journal would. */
  private track(run: MockRun, state: InstanceState): void {
    const { subscriptionId, resourceGroup, location } = run.request.target;
    const i = this.state.instances.find((x) => x.name === run.instance);
    const values = run.kind === "teardown" && i !== undefined ? i.values : run.request.values;
    const next: MockInstance = {
      name: run.instance,
      subscriptionId,
      resourceGroup,
      location,
      state,
      values: { ...values },
      preset: run.request.preset,
      lastRunId: run.id,
    };
    if (i === undefined) {
      this.state.instances.push(next);
    } else if (state !== "deploying" || i.state !== "deployed" || run.kind !== "update") {
      Object.assign(i, next);
    } else {
      // An update in progress keeps the last values until it succeeds.
      Object.assign(i, { ...next, values: i.values });
    }
    this.save();
  }

  private summaries(request: DeployRequest, stages: readonly SimStage[]): StageSummary[] {
    const name = nameOf(request);
    const { subscriptionId, resourceGroup } = request.target;
    const rg = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
    return stages.map((s) => ({
      name: s.name,
      label: s.label,
      dependsOn: [...s.dependsOn],
      deploymentName: `landfall-${name}-${s.name}`,
      resources: s.resources.map((r) => {
        const resourceName = r.name.replaceAll("{n}", name);
        return {
          resourceId:
            r.type === "Microsoft.Resources/resourceGroups"
              ? rg
              : `${rg}/providers/${r.type}/${resourceName}`,
          resourceType: r.type,
          resourceName,
          expectedSecs: this.scaled(r.secs),
        };
      }),
      expectedSecs: this.scaled(Math.max(0, ...s.resources.map((r) => r.secs))),
    }));
  }

  private async simulate(run: MockRun, resumed: boolean): Promise<void> {
    run.live = true;
    run.cancelled = false;
    // A sign-out or a new demo bumps the epoch: this simulation then stops quietly.
    const epoch = this.epoch;
    const name = run.instance;
    const location = run.request.target.location;
    const teardown = run.kind === "teardown";
    const summaries = this.summaries(run.request, run.stages);
    const prior = resumed ? foldEvents(emptyRun(), run.journal).snapshot : null;
    const doneStages = new Set(
      prior?.stages.filter((s) => s.state === "succeeded").map((s) => s.name) ?? [],
    );
    const doneResources = new Set(
      prior?.stages.flatMap((s) =>
        s.resources.filter((r) => r.state === "succeeded").map((r) => r.resourceId),
      ) ?? [],
    );
    const expected = this.scaled(3) + criticalPath(summaries);
    const total = summaries.reduce((n, s) => n + s.resources.length, 0);
    let done = doneResources.size;
    const started = prior?.startedAt != null ? Date.parse(prior.startedAt) : this.clock.now();
    if (prior === null) {
      const { subscriptionId, resourceGroup } = run.request.target;
      this.emit(run, {
        event: "runStarted",
        data: {
          runId: run.id,
          instance: name,
          kind: run.kind,
          subscriptionId,
          resourceGroup,
          location,
          stages: summaries,
          expectedSecs: expected,
          at: this.at(),
        },
      });
      await this.clock.sleep(this.scaled(3) * 1000);
      if (!teardown) {
        this.emit(run, {
          event: "resourceGroupReady",
          data: {
            resourceGroupId: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`,
            at: this.at(),
          },
        });
      }
    } else {
      this.emit(run, {
        event: "notice",
        data: {
          message: "Watching again: the deployments already in Azure were found and picked up.",
          at: this.at(),
        },
      });
    }
    const stale = (): boolean => epoch !== this.epoch;

    const outcomes = new Map<string, Promise<boolean>>();
    const runStage = async (stage: SimStage, summary: StageSummary): Promise<boolean> => {
      const deps = await Promise.all(
        stage.dependsOn.map((d) => outcomes.get(d) ?? Promise.resolve(true)),
      );
      if (doneStages.has(stage.name)) {
        return true;
      }
      if (!deps.every(Boolean) || run.cancelled || stale()) {
        return false;
      }
      const stageStart = this.clock.now();
      const wasStarted = prior?.stages.some((s) => s.name === stage.name && s.state !== "pending");
      this.emit(run, {
        event: "stageStarted",
        data: {
          stage: stage.name,
          deploymentName: summary.deploymentName,
          correlationId: `corr-${run.id}-${stage.name}`,
          reattached: wasStarted === true,
          at: this.at(),
        },
      });
      const todo = summary.resources.filter((r) => !doneResources.has(r.resourceId));
      const results = await Promise.all(
        todo.map(async (item, i): Promise<ErrorReport | null> => {
          // Azure starts a stage's independent resources a moment apart, not all at once.
          await this.clock.sleep(i * this.scaled(1) * 1000);
          if (stale()) {
            return null;
          }
          const t0 = this.clock.now();
          this.emit(run, {
            event: "resourceStarted",
            data: { stage: stage.name, ...item, at: this.at() },
          });
          const fails =
            !teardown &&
            this.state.options.failResource?.replaceAll("{n}", name) === item.resourceName &&
            !this.state.failedOnce.includes(item.resourceId);
          const secs = (fails ? 0.4 : resumed ? 0.5 : 1) * item.expectedSecs;
          await this.clock.sleep((secs * 1000) / 2);
          if (!run.cancelled && !stale()) {
            this.emit(run, {
              event: "resourceProgress",
              data: {
                stage: stage.name,
                resourceId: item.resourceId,
                provisioningState: teardown
                  ? "Deleting"
                  : run.kind === "update"
                    ? "Updating"
                    : "Creating",
                at: this.at(),
              },
            });
          }
          await this.clock.sleep((secs * 1000) / 2);
          if (stale()) {
            return null;
          }
          done += 1;
          if (fails) {
            this.state.failedOnce.push(item.resourceId);
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
      if (stale()) {
        return false;
      }
      const error = results.find((r) => r !== null) ?? null;
      if (isCancelled(run)) {
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
    if (stale()) {
      return;
    }
    const ok = all.every(Boolean);
    const seen: DeploymentEvent[] = [...run.journal, ...run.pending];
    const failedStage = ok ? undefined : seen.find((e) => e.event === "stageFailed");
    if (ok && teardown) {
      if (!run.purge) {
        this.state.deletedVaults.push({ name: `${name}-kv`, location });
        this.emit(run, {
          event: "notice",
          data: {
            message: `The Key Vault ${name}-kv is soft-deleted: Azure keeps it, and its name, for 90 days unless it is purged.`,
            at: this.at(),
          },
        });
      }
    }
    this.finish(
      run,
      ok ? "succeeded" : isCancelled(run) ? "canceled" : "failed",
      failedStage?.event === "stageFailed" ? failedStage.data.error : null,
      started,
    );
  }

  private finish(
    run: MockRun,
    outcome: "succeeded" | "failed" | "canceled",
    error: ErrorReport | null,
    started?: number,
  ): void {
    const name = run.instance;
    const teardown = run.kind === "teardown";
    run.live = false;
    this.track(run, outcome !== "succeeded" ? "failed" : teardown ? "deleted" : "deployed");
    this.emit(run, {
      event: "runFinished",
      data: {
        outcome,
        outputs:
          outcome === "succeeded" && !teardown
            ? instanceOutputs(name, run.request.target.location)
            : null,
        error,
        elapsedSecs:
          started === undefined ? this.elapsed(run) : (this.clock.now() - started) / 1000,
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

  /** Journals an event and hands it to the watcher; held back while nobody watches. */
  private emit(run: MockRun, event: DeploymentEvent): void {
    if (run.detached) {
      run.pending.push(event);
      return;
    }
    const envelope: EventEnvelope = { seq: run.journal.length + 1, ...event };
    run.journal.push(envelope);
    this.save();
    run.listener?.(envelope);
  }

  private elapsed(run: MockRun): number {
    const first = run.journal[0];
    return first?.event === "runStarted"
      ? Math.max(0, (this.clock.now() - Date.parse(first.data.at)) / 1000)
      : 0;
  }

  private at(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Azure seconds as simulated seconds. */
  private scaled(secs: number): number {
    return secs / Math.max(0.01, this.speedOverride ?? this.state.options.speed);
  }

  /** The mock's own latency (sign-in, preflight...), shrunk along with `?speed`. */
  private wait(ms: number): Promise<void> {
    const factor = this.speedOverride === null ? 1 : DEMO_SPEED / this.speedOverride;
    return this.clock.sleep(ms * Math.min(1, factor));
  }

  /** Stops every simulation of this page (a sign-out, a new demo): their runs are unwatched. */
  private stopSimulations(): void {
    this.epoch += 1;
    for (const run of this.runs.values()) {
      run.live = false;
      run.listener = null;
      run.detached = false;
      run.pending = [];
    }
  }

  private unfinishedRuns(): RunRecord[] {
    const tenantId = this.state.session?.tenantId ?? "";
    const demo = this.state.session?.demo ?? false;
    return [...this.runs.values()]
      .filter((r) => r.demo === demo && !ended(r) && (!r.live || r.detached))
      .map((r) => ({
        runId: r.id,
        instance: r.instance,
        kind: r.kind,
        state: r.detached ? "detached" : "running",
        subscriptionId: r.request.target.subscriptionId,
        tenantId,
        resourceGroup: r.request.target.resourceGroup,
        location: r.request.target.location,
        manifestVersion: MANIFEST.version,
        preset: r.request.preset,
        inputs: { ...r.request.values },
        startedAt: r.journal[0]?.event === "runStarted" ? r.journal[0].data.at : this.at(),
        finishedAt: null,
        watcher: null,
      }));
  }

  private revive(stored: StoredRun): MockRun {
    const run: MockRun = {
      ...stored,
      detached: stored.detached ?? false,
      listener: null,
      live: false,
      pending: [],
      cancelled: false,
    };
    // The stored state holds the live objects: replace the plain copy with this one.
    const i = this.state.runs.indexOf(stored);
    if (i >= 0) {
      this.state.runs[i] = run;
    }
    return run;
  }

  private load(): MockState {
    const raw = this.storage?.getItem(STORAGE_KEY) ?? null;
    if (raw === null) {
      return freshState();
    }
    try {
      return { ...freshState(), ...(JSON.parse(raw) as Partial<MockState>) };
    } catch {
      return freshState();
    }
  }

  private save(): void {
    if (this.storage === null) {
      return;
    }
    const runs: StoredRun[] = this.state.runs.map((r) => ({
      id: r.id,
      kind: r.kind,
      instance: r.instance,
      request: r.request,
      stages: r.stages,
      journal: r.journal,
      purge: r.purge,
      demo: r.demo,
      detached: r.detached,
    }));
    try {
      this.storage.setItem(STORAGE_KEY, JSON.stringify({ ...this.state, runs }));
    } catch {
      // A full or refused storage only loses the reload behaviour, never the run in this page.
    }
  }
}

/** Whether the run was cancelled in Azure (read anew after each wait: it changes meanwhile). */
function isCancelled(run: MockRun): boolean {
  return run.cancelled;
}

/** The `inputs` problem for values that break rules, or null. */
function inputsProblem(values: InputValues): Problem | null {
  const errors = checkInputs(MANIFEST, values);
  return errors.length === 0
    ? null
    : {
        code: "inputs",
        message: errors.map((e) => e.message).join(" "),
        details: errors,
        remediation: null,
      };
}

/** vCPUs of a VM size (`Standard_D4s_v5`: 4) and its quota family. */
function vmShape(size: unknown): { vcpus: number; family: string } {
  const m = /^Standard_([A-Z])(\d+)/.exec(String(size));
  const letter = m?.[1] ?? "D";
  return { vcpus: Number(m?.[2] ?? 0), family: `standard${letter}Sv5Family` };
}

/** The regional vCPU quota check: what the cluster can grow to against the family's limit. */
function quotaCheck(values: InputValues, location: string): Check {
  const need = new Map<string, number>();
  const add = (size: unknown, count: unknown): void => {
    const { vcpus, family } = vmShape(size);
    need.set(family, (need.get(family) ?? 0) + vcpus * (typeof count === "number" ? count : 0));
  };
  add(values.systemNodeVmSize, values.systemNodeCount);
  add(values.userNodeVmSize, values.userNodeMax);
  const worst = [...need.entries()].sort((a, b) => b[1] - a[1])[0] ?? ["standardDSv5Family", 0];
  const [family, vcpus] = worst;
  if (vcpus > VCPU_LIMIT) {
    return {
      id: "quota",
      label: "Regional vCPU quota",
      status: "fail",
      message: `At its maximum size the cluster needs ${vcpus} ${family} vCPUs in ${location}; the subscription allows ${VCPU_LIMIT}.`,
      fix: {
        message: `Request ${vcpus - VCPU_LIMIT} more ${family} vCPUs in ${location}, or lower the workload nodes maximum.`,
        link: "https://learn.microsoft.com/azure/quotas/per-vm-quota-requests",
        quota: [
          {
            quota: family,
            location,
            limit: VCPU_LIMIT,
            currentUsage: 0,
            additionalRequired: vcpus - VCPU_LIMIT,
            newLimitRequired: vcpus,
          },
        ],
      },
    };
  }
  if (vcpus > VCPU_LIMIT * 0.75) {
    return {
      id: "quota",
      label: "Regional vCPU quota",
      status: "warn",
      message: `At its maximum size the cluster uses ${vcpus} of the ${VCPU_LIMIT} ${family} vCPUs allowed in ${location}: little room is left for other workloads.`,
      fix: {
        message: `Consider asking for more ${family} vCPUs in ${location} before the cluster scales out.`,
        link: "https://learn.microsoft.com/azure/quotas/per-vm-quota-requests",
      },
    };
  }
  return {
    id: "quota",
    label: "Regional vCPU quota",
    status: "pass",
    message: `At its maximum size the cluster needs ${vcpus} of the ${VCPU_LIMIT} ${family} vCPUs allowed in ${location}.`,
  };
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
  const nm = values.name;
  if (typeof nm === "string" && nm !== "") {
    const said = (i: number): string =>
      manifest.inputs.find((d) => d.name === "name")?.rules?.[i]?.message ?? "name breaks a rule.";
    if (!/^[a-z]/.test(nm)) {
      add("name", "rule", said(0));
    }
    if (nm.endsWith("-")) {
      add("name", "rule", said(1));
    }
    if (nm.includes("--")) {
      add("name", "rule", said(2));
    }
  }
  const login = values.mysqlAdminLogin;
  if (typeof login === "string" && login !== "") {
    const said = (i: number): string =>
      manifest.inputs.find((d) => d.name === "mysqlAdminLogin")?.rules?.[i]?.message ??
      "mysqlAdminLogin breaks a rule.";
    if (!/^[A-Za-z]/.test(login)) {
      add("mysqlAdminLogin", "rule", said(0));
    }
    const reserved = ["admin", "administrator", "root", "guest", "public", "sa", "azure_superuser"];
    if (
      [...reserved, "azure_pg_admin", "mysql", "dbmanager", "loginmanager", "dbo"].includes(
        login.toLowerCase(),
      )
    ) {
      add("mysqlAdminLogin", "rule", said(1));
    }
  }
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
