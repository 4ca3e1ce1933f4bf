/**
 * The {@link Backend} of the desktop app: every method is one Tauri command of the shell
 * (src-tauri/src/commands.rs), called with `invoke`; run progress arrives on a `Channel`, one
 * event per message, in `seq` order. Rejections are the shell's `Problem`s.
 */
import { Channel, invoke } from "@tauri-apps/api/core";
import type {
  EventEnvelope,
  FixAction,
  InstanceView,
  Manifest,
  PreflightReport,
  RunSnapshot,
  StageWhatIf,
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
import { toProblem } from "$lib/backend";
import type { InputValues } from "$lib/form";

/** Calls a command, turning any rejection into a Problem. */
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the Backend contract rejects with Problem, as invoke does
    throw toProblem(e);
  }
}

/** A channel delivering a run's events to `onEvent`. */
function events(onEvent: OnEvent): Channel<EventEnvelope> {
  const channel = new Channel<EventEnvelope>();
  channel.onmessage = onEvent;
  return channel;
}

/** The shell's commands. */
export class TauriBackend implements Backend {
  session(): Promise<Session | null> {
    return call("session");
  }
  clouds(): Promise<CloudOption[]> {
    return call("clouds");
  }
  startDemo(options: DemoOptions): Promise<Session> {
    return call("start_demo", { options });
  }
  interruptedDemo(): Promise<string | null> {
    return call("interrupted_demo");
  }
  signIn(method: SignInMethod, onPrompt: (p: SignInPrompt) => void): Promise<Session> {
    const channel = new Channel<SignInPrompt>();
    channel.onmessage = onPrompt;
    return call("sign_in", { method, onPrompt: channel });
  }
  cancelSignIn(): Promise<void> {
    return call("cancel_sign_in");
  }
  signOut(): Promise<void> {
    return call("sign_out");
  }
  listTenants(): Promise<TenantSummary[]> {
    return call("list_tenants");
  }
  listSubscriptions(): Promise<SubscriptionSummary[]> {
    return call("list_subscriptions");
  }
  loadManifest(): Promise<Manifest> {
    return call("load_manifest");
  }
  validateInputs(values: InputValues): Promise<InputsCheck> {
    return call("validate_inputs", { values });
  }
  review(request: DeployRequest): Promise<ReviewPlan> {
    return call("review", { request });
  }
  preflight(request: DeployRequest): Promise<PreflightReport> {
    return call("preflight", { request });
  }
  applyFix(request: DeployRequest, action: FixAction): Promise<PreflightReport> {
    return call("apply_fix", { request, action });
  }
  whatIf(request: DeployRequest): Promise<StageWhatIf[]> {
    return call("what_if", { request });
  }
  deploy(request: DeployRequest, onEvent: OnEvent): Promise<string> {
    return call("deploy", { request, onEvent: events(onEvent) });
  }
  deploymentSnapshot(runId: string): Promise<RunSnapshot> {
    return call("deployment_snapshot", { runId });
  }
  attach(runId: string, afterSeq: number, onEvent: OnEvent): Promise<boolean> {
    return call("attach", { runId, afterSeq, onEvent: events(onEvent) });
  }
  cancel(runId: string, inAzure: boolean): Promise<void> {
    return call("cancel", { runId, inAzure });
  }
  retry(runId: string, onEvent: OnEvent): Promise<string> {
    return call("retry", { runId, onEvent: events(onEvent) });
  }
  resume(runId: string, onEvent: OnEvent): Promise<void> {
    return call("resume", { runId, onEvent: events(onEvent) });
  }
  instances(subscriptionId: string | null, discover: boolean): Promise<InstanceView[]> {
    return call("instances", { subscriptionId, discover });
  }
  updateRequest(instance: string): Promise<DeployRequest> {
    return call("update_request", { instance });
  }
  update(request: DeployRequest, onEvent: OnEvent): Promise<string> {
    return call("update", { request, onEvent: events(onEvent) });
  }
  teardown(instance: string, purge: boolean, onEvent: OnEvent): Promise<string> {
    return call("teardown", { instance, purge, onEvent: events(onEvent) });
  }
  saveSupportBundle(runId: string): Promise<SavedFile | null> {
    return call("save_support_bundle", { runId, path: null });
  }
  saveSummary(runId: string): Promise<SavedFile | null> {
    return call("save_summary", { runId, path: null });
  }
  openUrl(url: string): Promise<void> {
    return call("open_url", { url });
  }
}

/** Whether the page runs inside the desktop shell (Tauri injects its internals). */
export function insideTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}
