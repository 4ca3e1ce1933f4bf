/**
 * What the UI asks of the app: one method per Tauri command of the desktop shell. The Tauri
 * implementation (later, with src-tauri) calls `invoke`; {@link MockBackend} simulates a demo
 * for browser tests and UI work. Every method rejects with a {@link Problem}, never a string.
 *
 * Wire types come from the engine (generated into `$lib/bindings`); the request shapes below are
 * the commands' arguments, to be replaced by generated ones when the shell defines them.
 */
import type {
  CostEstimate,
  EventEnvelope,
  InputError,
  InstanceRecord,
  Manifest,
  PreflightReport,
  Problem,
  RunSnapshot,
} from "$lib/bindings";
import type { InputValues } from "$lib/form";
import type { SignInMethod, SubscriptionSummary } from "$lib/bindings-pending";

/** Options of "Try the demo". */
export interface DemoOptions {
  /** How much faster than Azure the simulator runs (about 40 gives a 3-minute demo). */
  speed: number;
  /** A resource name (`{n}` is the instance name) that fails on its first try; null for none. */
  failResource: string | null;
}

/** What `validateInputs` answers: the engine's input errors and, when valid, the cost. */
export interface InputsCheck {
  /** No input broke a rule. */
  valid: boolean;
  /** Every broken rule, naming the input. */
  errors: InputError[];
  /** The monthly cost (null when the inputs are too broken to price). */
  cost: CostEstimate | null;
}

/** Where an instance goes. */
export interface DeployTarget {
  /** Subscription ID. */
  subscriptionId: string;
  /** Resource group (created when missing). */
  resourceGroup: string;
  /** Region. */
  location: string;
}

/** What `deploy` needs. */
export interface DeployRequest {
  /** Where. */
  target: DeployTarget;
  /** The inputs (the instance name is `values.name`). */
  values: InputValues;
  /** The preset chosen, if the values still match it. */
  preset: string | null;
}

/** The app's commands. */
export interface Backend {
  /** Starts the built-in simulated Azure and signs in to it. */
  startDemo(options: DemoOptions): Promise<void>;
  /** Signs in to Azure. */
  signIn(method: SignInMethod): Promise<void>;
  /** The subscriptions the signed-in user can deploy to. */
  listSubscriptions(): Promise<SubscriptionSummary[]>;
  /** The bundled manifest (inputs, presets, outputs). */
  loadManifest(): Promise<Manifest>;
  /** Validates inputs and prices them (offline, fast enough to call on every change). */
  validateInputs(values: InputValues): Promise<InputsCheck>;
  /** Preflight checks against the target. */
  preflight(request: DeployRequest): Promise<PreflightReport>;
  /** Starts a deployment; events arrive on `onEvent` in `seq` order. Resolves with the run ID. */
  deploy(request: DeployRequest, onEvent: (e: EventEnvelope) => void): Promise<string>;
  /** The run as the journal knows it, for a reloaded window. */
  deploymentSnapshot(runId: string): Promise<RunSnapshot>;
  /** Re-attaches to a run's live events after a reload (events after `afterSeq`). */
  attach(runId: string, afterSeq: number, onEvent: (e: EventEnvelope) => void): Promise<void>;
  /** Stops watching (`inAzure` false: Azure goes on) or cancels the deployments in Azure. */
  cancel(runId: string, inAzure: boolean): Promise<void>;
  /** Retries a failed run from its failed stages; resolves with the new run ID. */
  retry(runId: string, onEvent: (e: EventEnvelope) => void): Promise<string>;
  /** Resumes watching a detached run. */
  resume(runId: string, onEvent: (e: EventEnvelope) => void): Promise<void>;
  /** Instances this app deployed. */
  instances(): Promise<InstanceRecord[]>;
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
