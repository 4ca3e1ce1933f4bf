/**
 * The instances screen's rules: how an instance's state and origin read, which actions it
 * offers (resume an unfinished run, update a deployed one, tear down), and the typed
 * confirmation a teardown asks for.
 */
import type { InstanceSource, InstanceState, InstanceView } from "$lib/bindings";

/** What can be done with an instance right now. */
export interface InstanceActions {
  /** Its last run stopped being watched before it ended: watch it again. */
  resume: boolean;
  /** Its last run is the one this window watches: show it. */
  show: boolean;
  /** Deployed and recorded here (its inputs are known): resize or change settings. */
  update: boolean;
  /** Delete its resource group. */
  teardown: boolean;
  /** Save the support bundle of its last run. */
  bundle: boolean;
  /** Why update is not offered, when that is not obvious. */
  note: string;
}

/**
 * The actions of one instance. `unfinished` holds the IDs of runs nobody watches any more
 * (the session's `unfinishedRuns`); `watching` is the run this window watches while it goes on.
 */
export function instanceActions(
  view: InstanceView,
  unfinished: ReadonlySet<string>,
  watching: string | null,
): InstanceActions {
  const last = view.lastRunId;
  const show = last !== null && last === watching;
  const resume = !show && last !== null && unfinished.has(last);
  const busy = view.state === "deploying" || view.state === "tearingDown";
  const gone = view.state === "deleted";
  const known = view.source !== "azure";
  return {
    resume,
    show,
    update: known && view.state === "deployed" && !show,
    teardown: !gone && !busy && !show && !resume,
    bundle: last !== null,
    note:
      !known && !gone
        ? "Found in Azure by its tags: this computer has no record of its settings, so it can be torn down here but not updated."
        : "",
  };
}

/** An instance's state in words (`null`: only Azure knows it). */
export function stateLabel(state: InstanceState | null): string {
  switch (state) {
    case "deploying":
      return "Deploying";
    case "deployed":
      return "Deployed";
    case "failed":
      return "Failed";
    case "tearingDown":
      return "Being deleted";
    case "deleted":
      return "Deleted";
    case null:
      return "In Azure";
  }
}

/** Where an instance was seen, in words. */
export function sourceLabel(source: InstanceSource): string {
  switch (source) {
    case "journal":
      return "Recorded on this computer";
    case "azure":
      return "Found in the subscription";
    case "both":
      return "Recorded on this computer and found in the subscription";
  }
}

/** Instances that still exist first, then by name. */
export function sortInstances(views: readonly InstanceView[]): InstanceView[] {
  return [...views].sort(
    (a, b) =>
      Number(a.state === "deleted") - Number(b.state === "deleted") ||
      a.name.localeCompare(b.name) ||
      a.resourceGroup.localeCompare(b.resourceGroup),
  );
}

/** Whether the typed confirmation matches the instance name exactly (spaces around ignored). */
export function teardownConfirmed(typed: string, name: string): boolean {
  return name !== "" && typed.trim() === name;
}
