/**
 * The journeys, written once and run by both drivers: the whole demo, a failure and its
 * recovery, and a deployment that survives the window going away. They speak of what a person
 * sees (headings, button names, field labels) as listed in {@link UI}, so a reworded screen is a
 * one-line change here.
 */
import type { Driver } from "./driver";

/**
 * What the screens show: headings, button names, field labels, as documented at the top of
 * src/App.svelte (the names every screen keeps for these tests).
 */
export const UI = {
  welcome: {
    heading: "Install the data platform in your Azure subscription",
    tryDemo: "Try the demo",
    failureDemo: /^Demo a failure and its recovery/,
    /** The offer to carry on a demo run an earlier window left unfinished. */
    continueDemo: "Continue the interrupted demo",
  },
  signIn: {
    heading: "Sign in",
    demoSignedIn: /Signed in to the simulated Azure as \S/,
    next: "Continue",
  },
  subscription: {
    heading: "Subscription",
    /** The count under the search box once the list is loaded ("4 of 4 shown"). */
    loaded: /\b\d+ of \d+ shown\b/,
    next: "Continue",
  },
  basics: {
    heading: "Basics",
    name: "Instance name",
    resourceGroup: (name: string): string => `rg-${name}`,
    next: "Continue",
  },
  sizing: {
    heading: "Sizing",
    cost: / per month/,
    next: "Continue",
  },
  review: {
    heading: "Review",
    checks: "Preflight checks",
    /** The checks' summary once preflight answered ("9 of 12 passed."; others may be skipped). */
    checked: /\b\d+ of \d+ passed\./,
    /** A check's line: its label, then its status ("Regional vCPU quota Failed"). */
    failedCheck: /^(.+) Failed$/,
    /** While preflight runs. */
    checking: "Checking the subscription",
    /** A failed check's fix ("Register 2 resource providers", "Register Microsoft.Compute"). */
    registerFix: /^Register \S/,
    deploy: "Deploy",
  },
  deploy: {
    heading: (name: string): string => `Deploying ${name}`,
    progress: /\b\d+ of \d+ resources\b/,
    someDone: /\b[1-9]\d* of \d+ resources\b/,
    failed: /\bfailed\b/i,
    /** The resource "Demo a failure…" makes fail: the Kubernetes cluster. */
    failingResource: (name: string): string => `${name}-aks`,
    /** The remediation shown under a failed resource. */
    fix: /Fix: \S.+/,
    retry: "Retry",
    toDone: "See the endpoints",
  },
  done: {
    heading: (name: string): string => `${name} is ready`,
    open: "Open the instance",
    endpoints: "Endpoints",
  },
} as const;

/** Limits for one run of the journeys. */
export interface JourneyOptions {
  /** How long a whole deployment may take (the demo speed decides the real time). */
  deployTimeoutMs: number;
}

/** A journey: a name for the test report and the steps. */
export interface Journey {
  name: string;
  run(d: Driver, options: JourneyOptions): Promise<void>;
}

/** Fails with a clear message when `ok` is false. */
function expect(ok: boolean, message: string): asserts ok {
  if (!ok) {
    throw new Error(message);
  }
}

/** On the welcome screen: starts the demo (optionally with the failing resource). */
async function startDemo(d: Driver, failure: boolean, shot: boolean): Promise<void> {
  await d.waitFor("heading", UI.welcome.heading);
  await d.check(UI.welcome.failureDemo, failure);
  if (shot) {
    await d.screenshot("welcome");
  }
  await d.click("button", UI.welcome.tryDemo);
}

/** From the sign-in screen to the review screen, with every preflight check passed. */
async function toReview(d: Driver, name: string, shot: boolean): Promise<void> {
  await d.waitFor("heading", UI.signIn.heading);
  await d.waitForText(UI.signIn.demoSignedIn);
  if (shot) {
    await d.screenshot("sign-in");
  }
  await d.click("button", UI.signIn.next);

  await d.waitFor("heading", UI.subscription.heading);
  await d.waitForText(UI.subscription.loaded);
  if (shot) {
    await d.screenshot("subscription");
  }
  // Enabled once the subscriptions are listed and one is chosen.
  await d.click("button", UI.subscription.next);

  await d.waitFor("heading", UI.basics.heading);
  await d.fill(UI.basics.name, name);
  await d.waitForText(UI.basics.resourceGroup(name));
  if (shot) {
    await d.screenshot("basics");
  }
  await d.click("button", UI.basics.next);

  await d.waitFor("heading", UI.sizing.heading);
  await d.waitForText(UI.sizing.cost);
  if (shot) {
    await d.screenshot("sizing");
  }
  await d.click("button", UI.sizing.next);

  await d.waitFor("heading", UI.review.heading);
  await d.waitFor("heading", UI.review.checks);
  await d.waitUntil("preflight's answer", checked, { timeoutMs: 60_000 });
  // A fresh subscription may lack resource providers (the app's simulated one does): the
  // check's fix registers them, as a person would click it.
  if (failedChecks(await d.text()).length > 0 && (await d.has("button", UI.review.registerFix))) {
    if (shot) {
      await d.screenshot("review-fix");
    }
    await d.click("button", UI.review.registerFix);
    await d.waitUntil(
      "preflight's answer with no failed check after the fix",
      (t) => checked(t) && failedChecks(t).length === 0,
      { timeoutMs: 120_000 },
    );
  }
  const page = await d.text();
  const failed = failedChecks(page);
  expect(failed.length === 0, `Preflight checks failed: ${failed.join("; ")}\n${page}`);
  if (shot) {
    await d.screenshot("review");
  }
}

/** Whether the review screen shows preflight's answer (not the checks still running). */
function checked(text: string): boolean {
  return UI.review.checked.test(text) && !text.includes(UI.review.checking);
}

/** The failed checks' lines on the review screen. */
function failedChecks(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => UI.review.failedCheck.test(l));
}

/**
 * The resources whose row on the deploy screen is in a state. A row reads, one line each,
 * "<resource> <type>" then "<state> <elapsed> / ~<expected>".
 */
function rowsInState(text: string, state: string): string[] {
  const lines = text.split("\n").map((l) => l.trim());
  return lines.flatMap((line, i) =>
    (lines[i + 1] ?? "").startsWith(`${state} `) && line.includes(" ")
      ? [line.slice(0, line.lastIndexOf(" "))]
      : [],
  );
}

/** Clicks Deploy (enabled only when no check fails) and waits for the deploy screen. */
async function deploy(d: Driver, name: string): Promise<void> {
  await d.click("button", UI.review.deploy);
  await d.waitFor("heading", UI.deploy.heading(name));
  await d.waitForText(UI.deploy.progress);
}

/**
 * Waits for the done screen (the deploy screen may hand over by itself or offer "See the
 * endpoints") and checks it shows the instance's address.
 */
async function expectDone(d: Driver, name: string, options: JourneyOptions): Promise<void> {
  const seen = await d.waitForText([UI.done.heading(name), UI.deploy.toDone], {
    timeoutMs: options.deployTimeoutMs,
  });
  if (seen === 1 && (await d.has("button", UI.deploy.toDone))) {
    await d.click("button", UI.deploy.toDone);
  }
  await d.waitFor("heading", UI.done.heading(name));
  await d.waitFor("heading", UI.done.endpoints);
  await d.waitFor("button", UI.done.open);
  const page = await d.text();
  expect(
    new RegExp(`https://${name}\\.`).test(page),
    `The done screen does not show the instance URL of ${name}:\n${page}`,
  );
}

/** The whole demo, every screen photographed. */
export const demoJourney: Journey = {
  name: "the demo from welcome to done",
  async run(d, options) {
    const name = "e2efull";
    await d.open();
    await startDemo(d, false, true);
    await toReview(d, name, true);
    await deploy(d, name);
    await d.waitForText(UI.deploy.someDone, { timeoutMs: options.deployTimeoutMs });
    await d.screenshot("deploy");
    await expectDone(d, name, options);
    await d.screenshot("done");
  },
};

/** A resource fails once; its error and fix show on its row; Retry finishes the install. */
export const failureJourney: Journey = {
  name: "a failed resource, its fix, and a retry",
  async run(d, options) {
    const name = "e2eretry";
    await d.open();
    await startDemo(d, true, false);
    await toReview(d, name, false);
    await deploy(d, name);
    await d.waitForText(UI.deploy.fix, { timeoutMs: options.deployTimeoutMs });
    const page = await d.text();
    expect(UI.deploy.failed.test(page), `The deploy screen does not say the run failed:\n${page}`);
    const failing = UI.deploy.failingResource(name);
    const failedRows = rowsInState(page, "failed");
    expect(
      failedRows.length === 1 && failedRows[0] === failing,
      `The failure demo should fail ${failing} alone, but the failed rows are ` +
        `${failedRows.join(", ") || "none"}:\n${page}`,
    );
    await d.screenshot("failure-failed");
    // The run ends once the stages that were still going finish; then Retry appears.
    await d.click("button", UI.deploy.retry, { timeoutMs: options.deployTimeoutMs });
    await expectDone(d, name, options);
    await d.screenshot("failure-done");
  },
};

/**
 * The window goes away mid-deploy and the run is picked up again: first the app closes (the
 * browser: the tab) and the welcome screen offers to continue the interrupted demo, then the
 * window reloads and goes straight back to the run. Each time the run must still be going,
 * or the journey would prove nothing: it fails if the deployment ended meanwhile.
 */
export const resumeJourney: Journey = {
  name: "a deployment survives the app closing and the window reloading",
  async run(d, options) {
    const name = "e2eresume";
    await d.open();
    await startDemo(d, false, false);
    await toReview(d, name, false);
    await deploy(d, name);
    await d.waitForText(UI.deploy.someDone, { timeoutMs: options.deployTimeoutMs });
    await d.screenshot("resume-before-restart");

    await d.reopen("restart");
    await d.waitFor("button", UI.welcome.continueDemo, { timeoutMs: 30_000 });
    await d.screenshot("resume-welcome");
    await d.click("button", UI.welcome.continueDemo);
    await expectRunning(d, name);
    await d.screenshot("resume-continued");

    await d.reopen("reload");
    await expectRunning(d, name);
    await d.screenshot("resume-reloaded");
    await expectDone(d, name, options);
    await d.screenshot("resume-done");
  },
};

/** The deploy screen of a run still going: its heading, progress, and no outcome yet. */
async function expectRunning(d: Driver, name: string): Promise<void> {
  await d.waitFor("heading", UI.deploy.heading(name), { timeoutMs: 30_000 });
  await d.waitForText(UI.deploy.progress);
  const page = await d.text();
  const ended = [UI.deploy.toDone, UI.deploy.retry].filter((b) => page.includes(b));
  expect(
    ended.length === 0,
    `The run of ${name} had already ended (the screen offers ${ended.join(", ")}), so this ` +
      `journey could not see it picked up mid-deploy: slow the demo down.\n${page}`,
  );
}

/** Every journey, in the order the suites run them. */
export const JOURNEYS: readonly Journey[] = [demoJourney, failureJourney, resumeJourney];
