/**
 * The wizard's state, shared by every screen: who is signed in, where you are, what you entered
 * (kept when you go back), the live checks and cost, the review, the run being watched and the
 * instances list. Screens read it and call its methods; the rules themselves live in the plain
 * modules (stepper, form, sign-in, subscriptions, basics, review, instances, deploy-view).
 */
import type {
  Backend,
  CloudOption,
  DeployRequest,
  InputsCheck,
  ReviewPlan,
  Session,
  SignInPrompt,
  SubscriptionSummary,
  TenantSummary,
} from "$lib/backend";
import { toProblem } from "$lib/backend";
import type {
  CostEstimate,
  EventEnvelope,
  FixAction,
  InstanceView,
  Manifest,
  PreflightReport,
  Problem,
  StageWhatIf,
} from "$lib/bindings";
import { BASICS_INPUTS, resourceGroupError } from "$lib/basics";
import { applyEvent, emptyRun, fromSnapshot, type LiveRun } from "$lib/deploy-view";
import { defaultValues, matchingPreset, withPreset, type InputValues } from "$lib/form";
import { emptySignInForm, toSignInMethod, type SignInForm } from "$lib/sign-in";
import { canOpen, reach, stepIndex, type NavFacts, type Screen, type StepId } from "$lib/stepper";
import { blockedReason, defaultSubscription, defaultTenant } from "$lib/subscriptions";
import { SvelteSet } from "svelte/reactivity";

/**
 * The speed "Try the demo" asks the simulator for: a whole install in about 2.5 minutes (at
 * speed 1 it takes as long as Azure, about 10 minutes, the Kubernetes cluster being the
 * longest). The app's `LANDFALL_DEMO_SPEED` overrides it (tests use 60).
 */
export const DEMO_SPEED = 4;

const RUN_KEY = "landfall.runId";
const TENANT_KEY = "landfall.tenant";
const SUBSCRIPTION_KEY = "landfall.subscription";

/** What the wizard is doing: a new instance, or a change to a deployed one. */
export type Flow = "install" | "update";

/** Files saved from the done screen. */
export interface SavedPaths {
  summary: string | null;
  bundle: string | null;
}

function remembered(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function remember(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Remembering the last choice is a convenience; a refused storage changes nothing else.
  }
}

/** The wizard's state and actions. */
export class Wizard {
  screen = $state<Screen>("welcome");
  furthest = $state(-1);
  session = $state.raw<Session | null>(null);
  clouds = $state.raw<CloudOption[]>([]);
  /** The demo run an earlier window left unfinished. */
  interrupted = $state<string | null>(null);

  signInForm = $state<SignInForm>(emptySignInForm());
  signInAttempted = $state(false);
  signingIn = $state(false);
  signInPrompt = $state.raw<SignInPrompt | null>(null);

  tenants = $state.raw<TenantSummary[]>([]);
  subscriptions = $state.raw<SubscriptionSummary[]>([]);
  tenantId = $state("");
  subscriptionId = $state("");
  search = $state("");

  manifest = $state.raw<Manifest | null>(null);
  values = $state<InputValues>({});
  touched = new SvelteSet<string>();
  attempted = $state(false);
  check = $state.raw<InputsCheck | null>(null);
  presetCosts = $state.raw<Record<string, CostEstimate | null>>({});
  resourceGroup = $state("");

  flow = $state<Flow>("install");
  /** The instance an update changes. */
  updating = $state<string | null>(null);

  plan = $state.raw<ReviewPlan | null>(null);
  preflight = $state.raw<PreflightReport | null>(null);
  whatIf = $state.raw<StageWhatIf[] | null>(null);
  reviewing = $state(false);
  checking = $state(false);
  predicting = $state(false);

  run = $state.raw<LiveRun>(emptyRun());
  runId = $state<string | null>(null);
  /** This window receives the run's live events (false after a reload found nobody watching). */
  attached = $state(true);
  saved = $state.raw<SavedPaths>({ summary: null, bundle: null });

  instances = $state.raw<InstanceView[] | null>(null);
  /** Where the instances screen's Back goes. */
  returnTo = $state<Screen>("welcome");
  loadingInstances = $state(false);
  discovered = $state(false);

  problem = $state.raw<Problem | null>(null);
  busy = $state(false);
  private validation = 0;
  private reviewKey = "";

  constructor(private readonly backend: Backend) {}

  /** Against the built-in simulated Azure. */
  get demo(): boolean {
    return this.session?.demo ?? false;
  }

  /** What the stepper rules need. */
  get facts(): NavFacts {
    const s = this.run.snapshot;
    return {
      furthest: this.furthest,
      deployStarted: this.runId !== null,
      deployFinished: s.outcome === "succeeded" && s.kind !== "teardown",
    };
  }

  /** The preset the values match, or null. */
  get preset(): string | null {
    return this.manifest === null ? null : matchingPreset(this.manifest.presets, this.values);
  }

  /** The instance name typed so far. */
  get name(): string {
    return typeof this.values.name === "string" ? this.values.name : "";
  }

  /** Opens a screen if the rules allow it (the stepper, Back buttons). */
  go(target: Screen): void {
    const free = target === "welcome" || target === "instances";
    if (!free && !canOpen(target, this.screen, this.facts)) {
      return;
    }
    this.screen = target;
    this.furthest = reach(this.furthest, target);
    this.problem = null;
  }

  /** Moves on to a screen the journey reached (sign-in done, a run started...). */
  private advance(target: Screen): void {
    this.screen = target;
    this.furthest = reach(this.furthest, target);
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

  // ---- welcome and sign-in -------------------------------------------------------------------

  /** What the welcome screen needs: a saved sign-in, an interrupted demo, the clouds. */
  async loadWelcome(): Promise<void> {
    try {
      const [session, interrupted, clouds] = await Promise.all([
        this.backend.session(),
        this.backend.interruptedDemo(),
        this.clouds.length > 0 ? Promise.resolve(this.clouds) : this.backend.clouds(),
      ]);
      this.session = session;
      this.interrupted = interrupted;
      this.clouds = clouds;
    } catch (e) {
      this.problem = toProblem(e);
    }
  }

  /** "Try the demo": starts the simulator, then the wizard at sign-in (already signed in). */
  async startDemo(failResource: string | null = null): Promise<void> {
    await this.guard(async () => {
      this.session = await this.backend.startDemo({
        speed: DEMO_SPEED,
        failResource,
        resume: false,
      });
      this.interrupted = null;
      this.startOver();
      this.furthest = -1;
      await this.afterSignIn();
      this.advance("signIn");
    });
  }

  /** Carries on the demo run an earlier window left unfinished. */
  async continueInterruptedDemo(): Promise<void> {
    const runId = this.interrupted;
    if (runId === null) {
      return;
    }
    await this.guard(async () => {
      this.session = await this.backend.startDemo({
        speed: DEMO_SPEED,
        failResource: null,
        resume: true,
      });
      this.interrupted = null;
      await this.afterSignIn();
      await this.watchAgain(runId);
    });
  }

  /** Carries on with the saved sign-in. */
  async continueSession(): Promise<void> {
    await this.guard(async () => {
      await this.afterSignIn();
      this.advance(this.demo ? "signIn" : "subscription");
    });
  }

  /** Opens the sign-in screen from the welcome screen. */
  openSignIn(): void {
    this.advance("signIn");
    this.problem = null;
  }

  /** Goes on from the sign-in screen once signed in. */
  continueFromSignIn(): void {
    if (this.session !== null) {
      this.advance("subscription");
      this.problem = null;
    }
  }

  /** Signs in with the form's method; a cancelled sign-in shows nothing. */
  async signIn(): Promise<void> {
    const method = toSignInMethod($state.snapshot(this.signInForm), this.clouds);
    if (method === null) {
      this.signInAttempted = true;
      return;
    }
    this.signInAttempted = false;
    this.signingIn = true;
    this.signInPrompt = null;
    this.problem = null;
    try {
      this.session = await this.backend.signIn(method, (p) => {
        this.signInPrompt = p;
      });
      this.signInForm.clientSecret = "";
      await this.afterSignIn();
      this.advance("subscription");
    } catch (e) {
      const p = toProblem(e);
      if (p.code !== "cancelled") {
        this.problem = p;
      }
    } finally {
      this.signingIn = false;
      this.signInPrompt = null;
    }
  }

  /** Gives up the sign-in in progress. */
  async cancelSignIn(): Promise<void> {
    try {
      await this.backend.cancelSignIn();
    } catch (e) {
      this.problem = toProblem(e);
    }
  }

  /** Signs out (the demo: stops it) and returns to the welcome screen. */
  async signOut(): Promise<void> {
    await this.guard(async () => {
      await this.backend.signOut();
      this.session = null;
      this.tenants = [];
      this.subscriptions = [];
      this.instances = null;
      this.startOver();
      this.furthest = -1;
      this.screen = "welcome";
      await this.loadWelcome();
    });
  }

  /** Loads what every later screen needs once signed in. */
  private async afterSignIn(): Promise<void> {
    await this.loadManifest();
    await this.loadSubscriptions();
  }

  // ---- tenant and subscription ---------------------------------------------------------------

  /** Lists tenants and subscriptions and picks the defaults (the remembered choice first). */
  async loadSubscriptions(): Promise<void> {
    const [tenants, subscriptions] = await Promise.all([
      this.backend.listTenants(),
      this.backend.listSubscriptions(),
    ]);
    this.tenants = tenants;
    this.subscriptions = subscriptions;
    const tenant = defaultTenant(tenants, this.tenantId || remembered(TENANT_KEY));
    this.tenantId = tenant;
    this.subscriptionId = defaultSubscription(subscriptions, tenant, [
      this.subscriptionId,
      remembered(SUBSCRIPTION_KEY),
    ]);
  }

  /** Chooses a tenant; the subscription follows (the remembered one if it is there). */
  chooseTenant(tenantId: string): void {
    this.tenantId = tenantId;
    this.subscriptionId = defaultSubscription(this.subscriptions, tenantId, [
      this.subscriptionId,
      remembered(SUBSCRIPTION_KEY),
    ]);
  }

  /** Goes on to basics with a usable subscription, remembering the choice. */
  continueFromSubscription(): void {
    if (blockedReason(this.subscriptions, this.subscriptionId) !== null) {
      return;
    }
    remember(TENANT_KEY, this.tenantId);
    remember(SUBSCRIPTION_KEY, this.subscriptionId);
    this.advance("basics");
    this.problem = null;
  }

  // ---- inputs --------------------------------------------------------------------------------

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

  /** The request from what was entered (an empty resource group: the default name). */
  request(): DeployRequest {
    const location = typeof this.values.location === "string" ? this.values.location : "";
    return {
      target: {
        subscriptionId: this.subscriptionId,
        resourceGroup: this.resourceGroup.trim(),
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
    const rg = inputs.includes("name") ? resourceGroupError(this.resourceGroup) : null;
    if (blocking.length > 0 || rg !== null) {
      this.attempted = true;
      return;
    }
    this.attempted = false;
    this.advance(next);
    this.problem = null;
  }

  /** Goes on from basics. */
  async continueFromBasics(): Promise<void> {
    await this.proceed("sizing", BASICS_INPUTS);
  }

  // ---- review --------------------------------------------------------------------------------

  /**
   * Loads the plan, then preflight (and, for an update, Azure's what-if) for the current
   * request. Nothing is reloaded when the request did not change since the last time, unless
   * `force`.
   */
  async loadReview(force = false): Promise<void> {
    const request = this.request();
    const key = JSON.stringify([this.flow, request]);
    if (!force && key === this.reviewKey && this.plan !== null) {
      return;
    }
    this.reviewKey = key;
    this.plan = null;
    this.preflight = null;
    this.whatIf = null;
    this.reviewing = true;
    this.problem = null;
    try {
      const plan = await this.backend.review(request);
      if (key !== this.reviewKey) {
        return;
      }
      this.plan = plan;
    } catch (e) {
      this.problem = toProblem(e);
      this.reviewKey = "";
      return;
    } finally {
      this.reviewing = false;
    }
    await Promise.all([
      this.runPreflight(),
      this.flow === "update" ? this.predict() : Promise.resolve(),
    ]);
  }

  /** Runs (or re-runs) preflight for the review screen. */
  async runPreflight(): Promise<void> {
    await this.askPreflight(() => this.backend.preflight(this.request()));
  }

  /** Applies a preflight fix; its answer is the fresh report. */
  async applyFix(action: FixAction): Promise<void> {
    this.problem = null;
    await this.askPreflight(() => this.backend.applyFix(this.request(), action));
  }

  /** Shows the report `ask` answers, unless the inputs changed while it was asked. */
  private async askPreflight(ask: () => Promise<PreflightReport>): Promise<void> {
    const key = this.reviewKey;
    this.checking = true;
    try {
      const report = await ask();
      if (key === this.reviewKey) {
        this.preflight = report;
      }
    } catch (e) {
      this.problem = toProblem(e);
    } finally {
      this.checking = false;
    }
  }

  /** Azure's what-if for an update. */
  private async predict(): Promise<void> {
    const key = this.reviewKey;
    this.predicting = true;
    try {
      const stages = await this.backend.whatIf(this.request());
      if (key === this.reviewKey) {
        this.whatIf = stages;
      }
    } catch (e) {
      this.problem = toProblem(e);
    } finally {
      this.predicting = false;
    }
  }

  // ---- runs ----------------------------------------------------------------------------------

  private readonly onEvent = (e: EventEnvelope): void => {
    this.run = applyEvent(this.run, e);
    if (e.event === "runFinished") {
      if (e.data.outcome === "detached") {
        this.attached = false;
      } else if (e.data.outcome === "succeeded" && this.run.snapshot.kind !== "teardown") {
        this.advance("done");
      }
      if (this.instances !== null) {
        void this.loadInstances(this.discovered);
      }
    }
  };

  private watch(runId: string): void {
    this.runId = runId;
    this.attached = true;
    try {
      sessionStorage.setItem(RUN_KEY, runId);
    } catch {
      // Without session storage a reload loses the run from this window, not from the journal.
    }
  }

  /** Forgets the run this window shows, so the steps that shape a new one open again. */
  private startOver(): void {
    this.run = emptyRun();
    this.runId = null;
    this.attached = true;
    this.saved = { summary: null, bundle: null };
    this.reviewKey = "";
    this.plan = null;
    this.preflight = null;
    this.whatIf = null;
    try {
      sessionStorage.removeItem(RUN_KEY);
    } catch {
      // Nothing kept, nothing to forget.
    }
  }

  /** Starts the install (or the update) and opens the deploy screen. */
  async deploy(): Promise<void> {
    await this.guard(async () => {
      const request = this.request();
      this.run = emptyRun();
      this.saved = { summary: null, bundle: null };
      this.advance("deploy");
      const runId =
        this.flow === "update"
          ? await this.backend.update(request, this.onEvent)
          : await this.backend.deploy(request, this.onEvent);
      this.watch(runId);
    });
  }

  /** Stop watching (Azure goes on) or cancel in Azure. */
  async cancel(inAzure: boolean): Promise<void> {
    const runId = this.runId;
    if (runId !== null) {
      await this.guard(async () => {
        await this.backend.cancel(runId, inAzure);
        if (!inAzure) {
          this.attached = false;
        }
      });
    }
  }

  /** Resumes watching the run on screen (stopped watching, or nobody watched after a reload). */
  async resume(): Promise<void> {
    const runId = this.runId;
    if (runId !== null) {
      await this.guard(async () => {
        await this.backend.resume(runId, this.onEvent);
        this.attached = true;
      });
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

  /** After a failure: back to sizing with the same entries, to change them and deploy again. */
  changeAndRetry(): void {
    this.startOver();
    this.advance("sizing");
    this.problem = null;
  }

  /** Shows a run from the journal and resumes watching it. */
  async resumeRun(runId: string): Promise<void> {
    await this.guard(async () => {
      await this.loadManifest();
      await this.watchAgain(runId);
    });
  }

  private async watchAgain(runId: string): Promise<void> {
    const snapshot = await this.backend.deploymentSnapshot(runId);
    this.run = fromSnapshot(snapshot);
    this.watch(runId);
    this.saved = { summary: null, bundle: null };
    this.advance("deploy");
    await this.backend.resume(runId, this.onEvent);
  }

  /** After a reload: re-attaches to the run this window was watching, if any. */
  async reattach(): Promise<void> {
    let stored: string | null;
    try {
      stored = sessionStorage.getItem(RUN_KEY);
    } catch {
      stored = null;
    }
    if (stored === null) {
      return;
    }
    const id = stored;
    await this.guard(async () => {
      this.session = await this.backend.session();
      if (this.session !== null) {
        await this.afterSignIn();
      } else {
        await this.loadManifest();
      }
      const snapshot = await this.backend.deploymentSnapshot(id);
      this.run = fromSnapshot(snapshot);
      this.runId = id;
      const done = snapshot.outcome === "succeeded" && snapshot.kind !== "teardown";
      this.advance(done ? "done" : "deploy");
      this.attached = await this.backend.attach(id, snapshot.lastSeq, this.onEvent);
    });
  }

  // ---- done ----------------------------------------------------------------------------------

  /** Saves the Markdown summary of the run on screen; shows where. */
  async saveSummary(): Promise<void> {
    const runId = this.runId;
    if (runId !== null) {
      await this.guard(async () => {
        const file = await this.backend.saveSummary(runId);
        if (file !== null) {
          this.saved = { ...this.saved, summary: file.path };
        }
      });
    }
  }

  /** Saves the support bundle of a run (the one on screen by default); shows where. */
  async saveBundle(runId: string | null = this.runId): Promise<void> {
    if (runId !== null) {
      await this.guard(async () => {
        const file = await this.backend.saveSupportBundle(runId);
        if (file !== null) {
          this.saved = { ...this.saved, bundle: file.path };
        }
      });
    }
  }

  /** Opens an https link in the system browser. */
  async openUrl(url: string): Promise<void> {
    await this.guard(() => this.backend.openUrl(url));
  }

  /** A new instance with the same sign-in and subscription: back to basics, name cleared. */
  installAnother(): void {
    this.startOver();
    this.flow = "install";
    this.updating = null;
    this.values = { ...this.values, name: "" };
    this.touched.clear();
    this.attempted = false;
    this.resourceGroup = "";
    this.furthest = stepIndex("basics");
    this.advance("basics");
    void this.validate();
  }

  // ---- instances -----------------------------------------------------------------------------

  /** Opens the instances screen and lists what the journal knows. */
  async openInstances(): Promise<void> {
    if (this.screen !== "instances") {
      this.returnTo = this.screen;
    }
    this.go("instances");
    await this.loadInstances(false);
  }

  /** Leaves the instances screen for where it was opened from (if still open to go to). */
  leaveInstances(): void {
    this.go(this.returnTo);
    if (this.screen === "instances") {
      this.go("welcome");
    }
  }

  /** Lists instances; with `discover`, also those tagged in the chosen subscription. */
  async loadInstances(discover: boolean): Promise<void> {
    this.loadingInstances = true;
    try {
      if (discover && this.session !== null && this.subscriptions.length === 0) {
        await this.loadSubscriptions();
      }
      const [instances, session] = await Promise.all([
        this.backend.instances(discover ? this.subscriptionId || null : null, discover),
        this.backend.session(),
      ]);
      this.instances = instances;
      this.session = session;
      this.discovered = discover;
    } catch (e) {
      this.problem = toProblem(e);
    } finally {
      this.loadingInstances = false;
    }
  }

  /** Starts an update: the instance's last inputs in the form, then sizing. */
  async beginUpdate(instance: string): Promise<void> {
    await this.guard(async () => {
      await this.loadManifest();
      const request = await this.backend.updateRequest(instance);
      const base = this.manifest === null ? {} : defaultValues(this.manifest);
      this.startOver();
      this.flow = "update";
      this.updating = instance;
      this.values = { ...base, ...request.values, location: request.target.location };
      this.subscriptionId = request.target.subscriptionId;
      const sub = this.subscriptions.find((s) => s.subscriptionId === this.subscriptionId);
      if (sub !== undefined) {
        this.tenantId = sub.tenantId;
      }
      this.resourceGroup = request.target.resourceGroup;
      this.touched.clear();
      this.attempted = false;
      this.furthest = Math.max(this.furthest, stepIndex("sizing"));
      this.advance("sizing");
      await this.validate();
    });
  }

  /** Leaves an update for a new install (the entries stay). */
  cancelUpdate(): void {
    this.installAnother();
  }

  /** Deletes an instance's resource group; its events show on the deploy screen. */
  async teardown(instance: string, purge: boolean): Promise<void> {
    await this.guard(async () => {
      await this.loadManifest();
      this.startOver();
      this.advance("deploy");
      this.watch(await this.backend.teardown(instance, purge, this.onEvent));
    });
  }
}
