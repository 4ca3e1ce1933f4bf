/**
 * The wizard's steps and the rules for moving between them: which steps are reachable from
 * where you are, and what the stepper shows for each. Pure: the store calls it, tests pin it.
 */

/** The wizard's steps, in order. */
export const STEPS = [
  { id: "signIn", label: "Sign in" },
  { id: "subscription", label: "Subscription" },
  { id: "basics", label: "Basics" },
  { id: "sizing", label: "Sizing" },
  { id: "review", label: "Review" },
  { id: "deploy", label: "Deploy" },
  { id: "done", label: "Done" },
] as const;

/** One step's id. */
export type StepId = (typeof STEPS)[number]["id"];

/**
 * Where the wizard is: the welcome screen comes before the first step; the instances screen
 * stands beside the steps (it is not one of them) and can be opened from anywhere.
 */
export type Screen = "welcome" | "instances" | StepId;

/** Screens that are not steps. */
export function isStep(screen: Screen): screen is StepId {
  return screen !== "welcome" && screen !== "instances";
}

/** What the stepper draws for one step. */
export type StepMark = "done" | "current" | "reachable" | "locked";

/** What the navigation rules need to know about the wizard. */
export interface NavFacts {
  /** The furthest step reached so far (its index in STEPS), -1 before any. */
  furthest: number;
  /** A deployment has been started (its run exists, in Azure or the simulator). */
  deployStarted: boolean;
  /** The run ended with something for Done to show (an install or update that succeeded). */
  deployFinished: boolean;
}

/** The index of a step in STEPS. */
export function stepIndex(id: StepId): number {
  return STEPS.findIndex((s) => s.id === id);
}

/**
 * Whether a step can be opened from the stepper.
 *
 * Back is always allowed up to the furthest step reached, except that once a deployment has
 * started the steps that shaped it (sign in to review) are locked: changing them would not
 * change the run. Forward jumps are never allowed past the furthest step reached, and Done
 * opens only when the run has finished.
 */
export function canOpen(target: StepId, current: Screen, facts: NavFacts): boolean {
  const t = stepIndex(target);
  if (current === target) {
    return true;
  }
  if (target === "done") {
    return facts.deployFinished;
  }
  if (target === "deploy") {
    return facts.deployStarted;
  }
  if (facts.deployStarted) {
    return false;
  }
  return t <= facts.furthest;
}

/** The mark for each step, in STEPS order. */
export function marks(current: Screen, facts: NavFacts): StepMark[] {
  const c = isStep(current) ? stepIndex(current) : -1;
  return STEPS.map((s, i) => {
    if (i === c) {
      return "current";
    }
    if (!canOpen(s.id, current, facts)) {
      return i < c || (s.id !== "done" && i <= facts.furthest) ? "done" : "locked";
    }
    return i < c ? "done" : "reachable";
  });
}

/** The step after this one, if any. */
export function nextStep(current: Screen): StepId | undefined {
  if (!isStep(current)) {
    return STEPS[0].id;
  }
  return STEPS[stepIndex(current) + 1]?.id;
}

/** The step before this one, or the welcome screen. */
export function previousStep(current: StepId): Screen {
  const i = stepIndex(current);
  return i <= 0 ? "welcome" : (STEPS[i - 1]?.id ?? "welcome");
}

/** The new furthest step after opening `target`. */
export function reach(furthest: number, target: Screen): number {
  return isStep(target) ? Math.max(furthest, stepIndex(target)) : furthest;
}
