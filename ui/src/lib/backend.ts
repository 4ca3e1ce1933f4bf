/**
 * What the UI asks of the app: one method per Tauri command of the desktop shell
 * (src-tauri/src/commands.rs). {@link TauriBackend} calls `invoke`; {@link MockBackend}
 * simulates Azure in the browser for browser tests and UI work. Every method rejects with a
 * {@link Problem} (`{code, message, details, remediation}`), never a string.
 *
 * Wire types come from Rust (generated into `$lib/bindings`).
 */
import type {
  EventEnvelope,
  FixAction,
  InstanceView,
  Manifest,
  PreflightReport,
  Problem,
  RunSnapshot,
  StageWhatIf,
  CloudOption,
  DemoOptions,
  DeployRequest as WireDeployRequest,
  InputsCheck,
  ReviewPlan,
  SavedFile,
  Session,
  SignInMethod,
  SignInPrompt,
  SubscriptionSummary,
  TenantSummary,
} from "$lib/bindings";
import type { InputValues } from "$lib/form";

export type {
  CloudOption,
  DemoOptions,
  DeployTarget,
  InputsCheck,
  ReviewPlan,
  SavedFile,
  Session,
  SignInMethod,
  SignInPrompt,
  SubscriptionSummary,
  TenantSummary,
} from "$lib/bindings";

/**
 * What review, preflight and deploy need: the shell's request with the form's values (every
 * form value is JSON, so it is what the shell reads; what the shell answers holds form values).
 */
export type DeployRequest = Omit<WireDeployRequest, "values"> & { values: InputValues };

/** Receives a run's events in `seq` order. */
export type OnEvent = (e: EventEnvelope) => void;

/** The app's commands. */
export interface Backend {
  /** The current sign-in (a saved account or a running demo), or null. */
  session(): Promise<Session | null>;
  /** The clouds the sign-in screen offers. */
  clouds(): Promise<CloudOption[]>;
  /** Starts the built-in simulated Azure and signs in to it. */
  startDemo(options: DemoOptions): Promise<Session>;
  /** The demo run an earlier window left unfinished (read without starting the demo), or null. */
  interruptedDemo(): Promise<string | null>;
  /** Signs in; `onPrompt` shows the browser URL or the device code while it waits. */
  signIn(method: SignInMethod, onPrompt: (p: SignInPrompt) => void): Promise<Session>;
  /** Gives up a sign-in in progress (its `signIn` rejects with code `cancelled`). */
  cancelSignIn(): Promise<void>;
  /** Signs out (the demo: stops the simulated Azure). */
  signOut(): Promise<void>;
  /** Tenants the signed-in user can reach. */
  listTenants(): Promise<TenantSummary[]>;
  /** The subscriptions the signed-in user can deploy to. */
  listSubscriptions(): Promise<SubscriptionSummary[]>;
  /** The bundled manifest (inputs, presets, outputs). */
  loadManifest(): Promise<Manifest>;
  /** Validates inputs and prices them (offline, fast enough to call on every change). */
  validateInputs(values: InputValues): Promise<InputsCheck>;
  /** The plan for the review screen (offline). */
  review(request: DeployRequest): Promise<ReviewPlan>;
  /** Preflight checks against the target. */
  preflight(request: DeployRequest): Promise<PreflightReport>;
  /** Applies a preflight fix, then answers a fresh preflight report. */
  applyFix(request: DeployRequest, action: FixAction): Promise<PreflightReport>;
  /** Azure's what-if per stage (for an update of a deployed instance). */
  whatIf(request: DeployRequest): Promise<StageWhatIf[]>;
  /** Starts a deployment; events arrive on `onEvent` in `seq` order. Resolves with the run ID. */
  deploy(request: DeployRequest, onEvent: OnEvent): Promise<string>;
  /** The run as the journal knows it, for a reloaded window. */
  deploymentSnapshot(runId: string): Promise<RunSnapshot>;
  /** Re-attaches to a run's live events (events after `afterSeq`); false when no live run. */
  attach(runId: string, afterSeq: number, onEvent: OnEvent): Promise<boolean>;
  /** Stops watching (`inAzure` false: Azure goes on) or cancels the deployments in Azure. */
  cancel(runId: string, inAzure: boolean): Promise<void>;
  /** Retries a failed run from its failed stages; resolves with the new run ID. */
  retry(runId: string, onEvent: OnEvent): Promise<string>;
  /** Resumes watching a run whose watcher stopped (closed app, stopped watching). */
  resume(runId: string, onEvent: OnEvent): Promise<void>;
  /** Instances of this machine's journal, plus (with `discover`) those tagged in the subscription. */
  instances(subscriptionId: string | null, discover: boolean): Promise<InstanceView[]>;
  /** The request to update an instance: its last inputs (secrets stay in the shell). */
  updateRequest(instance: string): Promise<DeployRequest>;
  /** Starts an update of a deployed instance; resolves with the run ID. */
  update(request: DeployRequest, onEvent: OnEvent): Promise<string>;
  /** Deletes an instance's resource group (with `purge`, its soft-deleted vaults too). */
  teardown(instance: string, purge: boolean, onEvent: OnEvent): Promise<string>;
  /** Writes the support bundle of a run; asks where with a save dialog. Null if dismissed. */
  saveSupportBundle(runId: string): Promise<SavedFile | null>;
  /** Writes a Markdown summary of a finished install; asks where. Null if dismissed. */
  saveSummary(runId: string): Promise<SavedFile | null>;
  /** Opens an https URL (the instance, a portal link) in the system browser. */
  openUrl(url: string): Promise<void>;
}

/** Whether a rejection value is a {@link Problem}. */
export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const v = value as Record<string, unknown>;
  return typeof v.code === "string" && typeof v.message === "string";
}

/** Any rejection as a Problem (a bug's plain Error becomes `internal`). */
export function toProblem(value: unknown): Problem {
  if (isProblem(value)) {
    return value;
  }
  const message = value instanceof Error ? value.message : String(value);
  return { code: "internal", message, details: null, remediation: null };
}
