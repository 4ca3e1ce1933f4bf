import { describe, expect, it } from "vitest";
import type { Check, PreflightReport } from "$lib/bindings";
import type { ReviewPlan } from "$lib/backend";
import {
  changeCounts,
  deployGate,
  fixLabel,
  planTree,
  splitStages,
  statusMark,
  summarizeChanges,
  typeName,
  whatIfGroups,
} from "./review";

const item = (type: string, name: string, expectedSecs = 10) => ({
  resourceId: `/x/${name}`,
  resourceType: type,
  resourceName: name,
  expectedSecs,
});
const plan: ReviewPlan = {
  resourceGroup: "rg-acme",
  location: "eastus",
  expectedSecs: 900,
  cost: {
    currency: "USD",
    priceDate: "2025-01-01",
    source: "t",
    lines: [],
    byCategory: {},
    total: 0,
  },
  stages: [
    {
      name: "network",
      label: "Network",
      dependsOn: [],
      deploymentName: "d1",
      expectedSecs: 20,
      resources: [
        item("Microsoft.Network/networkSecurityGroups", "acme-aks-nsg"),
        item("Microsoft.Network/virtualNetworks", "acme-vnet", 14),
        item("Microsoft.Network/networkSecurityGroups", "acme-mysql-nsg"),
      ],
    },
    {
      name: "data",
      label: "Data",
      dependsOn: ["network"],
      deploymentName: "d2",
      expectedSecs: 420,
      resources: [item("Microsoft.Custom/widgets", "w")],
    },
  ],
};
const check = (id: string, status: Check["status"], extra: Partial<Check> = {}): Check => ({
  id,
  label: id,
  status,
  message: "",
  ...extra,
});
const report = (...checks: Check[]): PreflightReport => ({ checks });

describe("review plan tree", () => {
  it("groups each stage's resources by type, in order of first appearance", () => {
    const tree = planTree(plan);
    expect(tree.map((s) => s.label)).toEqual(["Network", "Data"]);
    expect(tree[0]?.types.map((t) => [t.label, t.resources.map((r) => r.name)])).toEqual([
      ["Network security group", ["acme-aks-nsg", "acme-mysql-nsg"]],
      ["Virtual network", ["acme-vnet"]],
    ]);
    expect(tree[0]?.count).toBe(3);
    expect(tree[1]?.waitsFor).toEqual(["Network"]);
    expect(typeName("Microsoft.Custom/widgets")).toBe("widgets");
  });
});

describe("review checklist", () => {
  it("shows every status with an icon and a word", () => {
    expect(statusMark("fail")).toEqual({ icon: "✗", text: "Failed" });
    expect(statusMark("skipped").text).toBe("Skipped");
  });

  it("labels fix buttons by what they do", () => {
    expect(fixLabel({ kind: "registerProviders", args: ["Microsoft.ContainerService"] })).toBe(
      "Register Microsoft.ContainerService",
    );
    expect(fixLabel({ kind: "registerProviders", args: ["A", "B"] })).toBe(
      "Register 2 resource providers",
    );
    expect(
      fixLabel({ kind: "purgeDeletedVault", args: { name: "acme-kv", location: "eastus" } }),
    ).toBe("Purge the deleted Key Vault acme-kv");
  });

  it("enables Deploy only with a plan, a report and no failing check", () => {
    const base = {
      planLoaded: true,
      report: report(check("a", "pass")),
      checking: false,
      busy: false,
    };
    expect(deployGate(base)).toEqual({ enabled: true, reason: "" });
    expect(
      deployGate({ ...base, report: report(check("a", "warn"), check("b", "skipped")) }).enabled,
    ).toBe(true);
    expect(deployGate({ ...base, planLoaded: false })).toMatchObject({ enabled: false });
    expect(deployGate({ ...base, report: null }).reason).toBe("Run the preflight checks first.");
    expect(deployGate({ ...base, checking: true }).enabled).toBe(false);
    expect(deployGate({ ...base, busy: true }).enabled).toBe(false);
    const one = deployGate({
      ...base,
      report: report(check("Providers", "fail"), check("b", "pass")),
    });
    expect(one).toEqual({
      enabled: false,
      reason: "1 check fails (Providers): fix it, then re-run preflight.",
    });
    expect(
      deployGate({ ...base, report: report(check("A", "fail"), check("B", "fail")) }).reason,
    ).toBe("2 checks fail (A, B): fix them, then re-run preflight.");
  });
});

describe("what-if summary", () => {
  const g = (changeType: string, count: number) => ({ changeType, count, resources: [] });
  it("adds counts over stages in a fixed order of change types", () => {
    const groups = whatIfGroups(
      report(
        check("whatIf:network", "pass", { whatIf: [g("Create", 3), g("NoChange", 1)] }),
        check("quota", "pass"),
        check("whatIf:compute", "pass", {
          whatIf: [g("Modify", 1), g("Create", 2), g("Weird", 1)],
        }),
      ),
    );
    expect(changeCounts(groups).map((c) => c.text)).toEqual([
      "5 to create",
      "1 to modify",
      "1 unchanged",
      "1 Weird",
    ]);
    expect(summarizeChanges([g("Delete", 0)])).toBe("no changes");
    expect(summarizeChanges([g("Modify", 1), g("NoChange", 9)])).toBe("1 to modify, 9 unchanged");
  });
  it("shows an update's changed stages in full and names the calm ones", () => {
    const stage = (name: string, groups: ReturnType<typeof g>[], failed = false) => ({
      stage: name,
      summary: [],
      groups,
      error: failed ? { code: "Unknown" as const, message: "what-if failed" } : null,
    });
    const { changed, calm } = splitStages([
      stage("network", [g("NoChange", 3)]),
      stage("compute", [g("Modify", 1), g("NoChange", 1)]),
      stage("data", [], true),
      stage("outputs", [g("Create", 0), g("NoChange", 1)]),
    ]);
    expect(changed.map((s) => s.stage)).toEqual(["compute", "data"]);
    expect(calm.map((s) => s.stage)).toEqual(["network", "outputs"]);
  });
});
