import { describe, expect, it } from "vitest";
import type { SubscriptionSummary, TenantSummary } from "$lib/backend";
import {
  availability,
  blockedReason,
  defaultSubscription,
  defaultTenant,
  filterSubscriptions,
  sortTenants,
} from "./subscriptions";

const sub = (id: string, displayName: string, tenantId: string, state = "Enabled") => ({
  subscriptionId: id,
  displayName,
  tenantId,
  state,
});
const subs: SubscriptionSummary[] = [
  sub("aaaa-1111", "Contoso Sandbox", "t1"),
  sub("bbbb-2222", "Contoso Production", "t1"),
  sub("cccc-3333", "Contoso Legacy", "t1", "Disabled"),
  sub("dddd-4444", "Fabrikam Shared", "t2"),
];
const tenants: TenantSummary[] = [
  { tenantId: "t2", displayName: "Fabrikam", defaultDomain: "fabrikam.com", current: false },
  { tenantId: "t1", displayName: "Contoso", defaultDomain: "contoso.com", current: true },
];

describe("subscription choice", () => {
  it("only lets Enabled subscriptions be chosen and says why not in words", () => {
    expect(availability("Enabled")).toEqual({ selectable: true, why: "" });
    expect(availability("Disabled")).toMatchObject({ selectable: false });
    expect(availability("PastDue").why).toMatch(/^Past due/);
    expect(availability("Frozen").why).toBe(
      "Frozen: only Enabled subscriptions can be deployed to.",
    );
  });

  it("filters a tenant's subscriptions by name or ID, usable ones first", () => {
    expect(filterSubscriptions(subs, "t1", "").map((s) => s.displayName)).toEqual([
      "Contoso Production",
      "Contoso Sandbox",
      "Contoso Legacy",
    ]);
    expect(filterSubscriptions(subs, "t1", " SANDBOX ").map((s) => s.subscriptionId)).toEqual([
      "aaaa-1111",
    ]);
    expect(filterSubscriptions(subs, "t1", "3333").map((s) => s.displayName)).toEqual([
      "Contoso Legacy",
    ]);
    expect(filterSubscriptions(subs, "", "shared")).toHaveLength(1);
    expect(filterSubscriptions(subs, "t2", "contoso")).toEqual([]);
  });

  it("chooses the remembered subscription while it can be used, else the first usable one", () => {
    expect(defaultSubscription(subs, "t1", [null, "aaaa-1111"])).toBe("aaaa-1111");
    expect(defaultSubscription(subs, "t1", ["cccc-3333"])).toBe("bbbb-2222");
    expect(defaultSubscription(subs, "t1", ["dddd-4444"])).toBe("bbbb-2222");
    expect(defaultSubscription(subs, "t3", [])).toBe("");
  });

  it("puts the current tenant first and defaults to the remembered one", () => {
    expect(sortTenants(tenants).map((t) => t.tenantId)).toEqual(["t1", "t2"]);
    expect(defaultTenant(tenants, null)).toBe("t1");
    expect(defaultTenant(tenants, "t2")).toBe("t2");
    expect(defaultTenant(tenants, "gone")).toBe("t1");
    expect(defaultTenant([], null)).toBe("");
  });

  it("blocks Continue without a usable choice, naming the subscription", () => {
    expect(blockedReason(subs, "")).toBe("Choose a subscription to deploy to.");
    expect(blockedReason(subs, "cccc-3333")).toMatch(/^Contoso Legacy cannot be used\. Disabled/);
    expect(blockedReason(subs, "bbbb-2222")).toBeNull();
  });
});
