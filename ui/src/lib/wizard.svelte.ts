/**
 * The wizard's state, shared by every screen: where you are, what you entered (kept when you
 * go back), the live checks and cost, and the run being watched. Screens read it and call its
 * methods; the rules themselves live in the plain modules (stepper, form, deploy-view).
 */
import type { Backend, DeployRequest, InputsCheck } from "$lib/backend";
import { toProblem } from "$lib/backend";
import type { SubscriptionSummary } from "$lib/bindings-pending";
import type {
  CostEstimate,
  EventEnvelope,
  Manifest,
  PreflightReport,
  Problem,
} from "$lib/bindings";
import { applyEvent, emptyRun, fromSnapshot, type LiveRun } from "$lib/deploy-view";
import { defaultValues, matchingPreset, withPreset, type InputValues } from "$lib/form";
import { canOpen, reach, type NavFacts, type Screen, type StepId } from "$lib/stepper";
import { SvelteSet } from "svelte/reactivity";

const RUN_KEY = "landfall.runId";

/** The wizard's state and actions. */
export class Wizard {
  screen = $state<Screen>("welcome");
  furthest = $state(-1);
  demo = $state(false);
  manifest = $state.raw<Manifest | null>(null);
  values = $state<InputValues>({});
  touched = new SvelteSet<string>();
  attempted = $state(false);
  check = $state.raw<InputsCheck | null>(null);
  presetCosts = $state.raw<Record<string, CostEstimate | null>>({});
  subscriptions = $state.raw<SubscriptionSummary[]>([]);
  subscriptionId = $state("");
  resourceGroup = $state("");
  preflight = $state.raw<PreflightReport | null>(null);
  run = $state.raw<LiveRun>(emptyRun());
  runId = $state<string | null>(null);
  problem = $state.raw<Problem | null>(null);
  busy = $state(false);
  private validation = 0;

  constructor(private readonly backend: Backend) {}

  /** What the stepper rules need. */
  get facts(): NavFacts {
    const outcome = this.run.snapshot.outcome;
    return {
      furthest: this.furthest,
      deployStarted: this.runId !== null,
      deployFinished: outcome !== null && outcome !== "detached",
    };
  }

  /** The preset the values match, or null. */
  get preset(): string | null {
    return this.manifest === null ? null : matchingPreset(this.manifest.presets, this.values);
  }

  /** Opens a screen if the rules allow it. */
  go(target: Screen): void {
    if (target !== "welcome" && !canOpen(target, this.screen, this.facts)) {
      return;
    }
    this.screen = target;
    this.furthest = reach(this.furthest, target);
    this.problem = null;
  }

  /** Runs an action, turning its rejection into the shown problem. */
  private async guard(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.problem = null;
    try {
      await action();
    } catch (e) {
      this.problem = toProblem(e);
    } finally {
      this.busy = false;
    }
  }

  /** "Try the demo": starts the simulator, then the wizard at sign-in (already signed in). */
  async startDemo(failResource: string | null = null): Promise<void> {
    await this.guard(async () => {
      await this.backend.startDemo({ speed: 6, failResource });
      this.demo = true;
      await this.loadManifest();
      this.subscriptions = await this.backend.listSubscriptions();
      this.subscriptionId = this.subscriptions[0]?.subscriptionId ?? "";
      this.go("signIn");
    });
  }

  /** Loads the manifest and fills the defaults and preset prices once. */
  async loadManifest(): Promise<void> {
    if (this.manifest !== null) {
      return;
    }
    const manifest = await this.backend.loadManifest();
    this.manifest = manifest;
    const small = manifest.presets.find((p) => p.name === "small");
    const base = defaultValues(manifest);
    this.values = small === undefined ? base : withPreset(base, small);
    const costs: Record<string, CostEstimate | null> = {};
    for (const p of manifest.presets) {
      costs[p.name] = (await this.backend.validateInputs(withPreset(base, p))).cost;
    }
    this.presetCosts = costs;
    await this.validate();
  }

  /** Sets one input and re-validates at once. */
  async setValue(name: string, value: InputValues[string]): Promise<void> {
    this.values = { ...this.values, [name]: value };
    this.touched.add(name);
    await this.validate();
  }

  /** Applies a preset card. */
  async choosePreset(name: string): Promise<void> {
    const preset = this.manifest?.presets.find((p) => p.name === name);
    if (preset !== undefined) {
      this.values = withPreset(this.values, preset);
      await this.validate();
    }
  }

  /** Validates the current values; a slower answer to an older change is dropped. */
  async validate(): Promise<void> {
    const ticket = ++this.validation;
    try {
      const check = await this.backend.validateInputs($state.snapshot(this.values));
      if (ticket === this.validation) {
        this.check = check;
      }
    } catch (e) {
      this.problem = toProblem(e);
    }
  }

  /** The deploy request from what was entered. */
  request(): DeployRequest {
    const location = typeof this.values.location === "string" ? this.values.location : "eastus";
    const name = typeof this.values.name === "string" ? this.values.name : "";
    return {
      target: {
        subscriptionId: this.subscriptionId,
        resourceGroup: this.resourceGroup === "" ? `rg-${name}` : this.resourceGroup,
        location,
      },
      values: $state.snapshot(this.values),
      preset: this.preset,
    };
  }

  /** Goes on from a form screen if its inputs are valid, showing every message if not. */
  async proceed(next: StepId, inputs: readonly string[]): Promise<void> {
    await this.validate();
    const blocking = (this.check?.errors ?? []).filter((e) => inputs.includes(e.input));
    if (blocking.length > 0) {
      this.attempted = true;
      return;
    }
    this.attempted = false;
    this.go(next);
  }

  /** Runs preflight for the review screen. */
  async runPreflight(): Promise<void> {
    await this.guard(async () => {
      this.preflight = await this.backend.preflight(this.request());
    });
  }

  private readonly onEvent = (e: EventEnvelope): void => {
    this.run = applyEvent(this.run, e);
    if (e.event === "runFinished" && e.data.outcome === "succeeded") {
      this.go("done");
    }
  };

  private watch(runId: string): void {
    this.runId = runId;
    sessionStorage.setItem(RUN_KEY, runId);
  }

  /** Starts the deployment and opens the deploy screen. */
  async deploy(): Promise<void> {
    await this.guard(async () => {
      this.run = emptyRun();
      this.furthest = reach(this.furthest, "deploy");
      this.screen = "deploy";
      this.watch(await this.backend.deploy(this.request(), this.onEvent));
    });
  }

  /** Stop watching (Azure goes on) or cancel in Azure. */
  async cancel(inAzure: boolean): Promise<void> {
    const runId = this.runId;
    if (runId !== null) {
      await this.guard(() => this.backend.cancel(runId, inAzure));
    }
  }

  /** Resumes watching a detached run. */
  async resume(): Promise<void> {
    const runId = this.runId;
    if (runId !== null) {
      await this.guard(() => this.backend.resume(runId, this.onEvent));
    }
  }

  /** Retries a failed run from its failed stages. */
  async retry(): Promise<void> {
    const runId = this.runId;
    if (runId !== null) {
      await this.guard(async () => {
        this.run = emptyRun();
        this.watch(await this.backend.retry(runId, this.onEvent));
      });
    }
  }

  /** After a reload: re-attaches to the run this window was watching, if any. */
  async reattach(): Promise<void> {
    const runId = sessionStorage.getItem(RUN_KEY);
    if (runId === null) {
      return;
    }
    await this.guard(async () => {
      const snapshot = await this.backend.deploymentSnapshot(runId);
      this.run = fromSnapshot(snapshot);
      this.runId = runId;
      this.furthest = reach(this.furthest, "deploy");
      this.screen = snapshot.outcome === "succeeded" ? "done" : "deploy";
      await this.backend.attach(runId, snapshot.lastSeq, this.onEvent);
    });
  }
}
