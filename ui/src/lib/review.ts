/**
 * The review screen's model: the plan as a tree (stage, then resource type), the checklist's
 * icons and fix buttons, what-if counts in words, and the rule that gates Deploy: enabled only
 * when the plan is loaded, preflight answered for the current request, and no check fails.
 */
import type {
  Check,
  CheckStatus,
  FixAction,
  PreflightReport,
  StageWhatIf,
  WhatIfGroup,
} from "$lib/bindings";
import type { ReviewPlan } from "$lib/backend";

/** Resource types in words a non-expert reads; others show their last segment. */
const TYPE_NAMES: Record<string, string> = {
  "microsoft.network/virtualnetworks": "Virtual network",
  "microsoft.network/networksecuritygroups": "Network security group",
  "microsoft.network/privatednszones": "Private DNS zone",
  "microsoft.network/publicipaddresses": "Public IP address",
  "microsoft.operationalinsights/workspaces": "Log Analytics workspace",
  "microsoft.keyvault/vaults": "Key Vault",
  "microsoft.storage/storageaccounts": "Storage account",
  "microsoft.dbformysql/flexibleservers": "MySQL flexible server",
  "microsoft.containerregistry/registries": "Container registry",
  "microsoft.containerservice/managedclusters": "Kubernetes cluster (AKS)",
  "microsoft.resources/resourcegroups": "Resource group",
};

/** A resource type as people read it. */
export function typeName(resourceType: string): string {
  return TYPE_NAMES[resourceType.toLowerCase()] ?? resourceType.split("/").pop() ?? resourceType;
}

/** One resource type under a stage. */
export interface PlanTypeNode {
  /** `Microsoft.Network/virtualNetworks`. */
  type: string;
  /** `Virtual network`. */
  label: string;
  /** The resources of that type, plan order. */
  resources: { name: string; expectedSecs: number }[];
}

/** One stage of the plan tree. */
export interface PlanStageNode {
  name: string;
  label: string;
  /** Labels of the stages it waits for. */
  waitsFor: string[];
  expectedSecs: number;
  /** Types in order of first appearance. */
  types: PlanTypeNode[];
  /** Resources in the stage. */
  count: number;
}

/** The plan as the tree the screen draws, stages in deploy order. */
export function planTree(plan: ReviewPlan): PlanStageNode[] {
  const labels = new Map(plan.stages.map((s) => [s.name, s.label]));
  return plan.stages.map((stage) => {
    const types: PlanTypeNode[] = [];
    for (const r of stage.resources) {
      let node = types.find((t) => t.type.toLowerCase() === r.resourceType.toLowerCase());
      if (node === undefined) {
        node = { type: r.resourceType, label: typeName(r.resourceType), resources: [] };
        types.push(node);
      }
      node.resources.push({ name: r.resourceName, expectedSecs: r.expectedSecs });
    }
    return {
      name: stage.name,
      label: stage.label,
      waitsFor: stage.dependsOn.map((d) => labels.get(d) ?? d),
      expectedSecs: stage.expectedSecs,
      types,
      count: stage.resources.length,
    };
  });
}

/** How a check's status shows: an icon for the eye and a word for everyone. */
export function statusMark(status: CheckStatus): { icon: string; text: string } {
  switch (status) {
    case "pass":
      return { icon: "✓", text: "Passed" };
    case "warn":
      return { icon: "!", text: "Warning" };
    case "fail":
      return { icon: "✗", text: "Failed" };
    case "skipped":
      return { icon: "–", text: "Skipped" };
  }
}

/** The label of the button that applies a fix. */
export function fixLabel(action: FixAction): string {
  switch (action.kind) {
    case "registerProviders":
      return action.args.length === 1
        ? `Register ${action.args[0] ?? ""}`
        : `Register ${action.args.length} resource providers`;
    case "purgeDeletedVault":
      return `Purge the deleted Key Vault ${action.args.name}`;
  }
}

/** Change types in the order people care about, with the words for a count. */
const CHANGE_WORDS: readonly [string, string][] = [
  ["Create", "to create"],
  ["Modify", "to modify"],
  ["Delete", "to delete"],
  ["Deploy", "to redeploy"],
  ["NoChange", "unchanged"],
  ["Ignore", "ignored"],
  ["Unsupported", "cannot be predicted"],
];

/** One change type with its total count. */
export interface ChangeCount {
  changeType: string;
  count: number;
  /** `3 to create`. */
  text: string;
}

/** Counts per change type over groups of any stages, known types in a fixed order. */
export function changeCounts(groups: readonly WhatIfGroup[]): ChangeCount[] {
  const totals = new Map<string, number>();
  for (const g of groups) {
    totals.set(g.changeType, (totals.get(g.changeType) ?? 0) + g.count);
  }
  const order = CHANGE_WORDS.map(([t]) => t);
  return [...totals.entries()]
    .filter(([, n]) => n > 0)
    .sort(
      ([a], [b]) =>
        (order.includes(a) ? order.indexOf(a) : order.length) -
        (order.includes(b) ? order.indexOf(b) : order.length),
    )
    .map(([changeType, count]) => ({
      changeType,
      count,
      text: `${count} ${CHANGE_WORDS.find(([t]) => t === changeType)?.[1] ?? changeType}`,
    }));
}

/** `3 to create, 1 to modify`, or `no changes`. */
export function summarizeChanges(groups: readonly WhatIfGroup[]): string {
  const counts = changeCounts(groups);
  return counts.length === 0 ? "no changes" : counts.map((c) => c.text).join(", ");
}

/** The what-if groups preflight found (checks that carry them), all stages together. */
export function whatIfGroups(report: PreflightReport | null): WhatIfGroup[] {
  return (report?.checks ?? []).flatMap((c) => c.whatIf ?? []);
}

/** The what-if groups of an update's stages. */
export function updateGroups(stages: readonly StageWhatIf[]): WhatIfGroup[] {
  return stages.flatMap((s) => s.groups);
}

/**
 * An update's stages split for the screen: those with a change (or a failed prediction) to show
 * in full, and those Azure predicts no change for, named in one line.
 */
export function splitStages(stages: readonly StageWhatIf[]): {
  changed: StageWhatIf[];
  calm: StageWhatIf[];
} {
  const isCalm = (s: StageWhatIf): boolean =>
    s.error === null && s.groups.every((g) => g.changeType === "NoChange" || g.count === 0);
  return { changed: stages.filter((s) => !isCalm(s)), calm: stages.filter(isCalm) };
}

/** The checks that fail. */
export function failing(report: PreflightReport | null): Check[] {
  return (report?.checks ?? []).filter((c) => c.status === "fail");
}

/** What the gate needs. */
export interface GateFacts {
  /** The plan for the current request is loaded. */
  planLoaded: boolean;
  /** Preflight's report for the current request (null before it answered). */
  report: PreflightReport | null;
  /** Preflight or a fix is running. */
  checking: boolean;
  /** Something else is in flight (the deploy itself). */
  busy: boolean;
}

/** Whether Deploy is enabled, and why not in words. */
export function deployGate(facts: GateFacts): { enabled: boolean; reason: string } {
  if (facts.busy) {
    return { enabled: false, reason: "Starting…" };
  }
  if (!facts.planLoaded) {
    return { enabled: false, reason: "The plan is not loaded yet." };
  }
  if (facts.checking) {
    return { enabled: false, reason: "Preflight checks are running." };
  }
  if (facts.report === null) {
    return { enabled: false, reason: "Run the preflight checks first." };
  }
  const fails = failing(facts.report);
  if (fails.length > 0) {
    const names = fails.map((c) => c.label).join(", ");
    return {
      enabled: false,
      reason:
        fails.length === 1
          ? `1 check fails (${names}): fix it, then re-run preflight.`
          : `${fails.length} checks fail (${names}): fix them, then re-run preflight.`,
    };
  }
  return { enabled: true, reason: "" };
}
