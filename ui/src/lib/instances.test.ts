import { describe, expect, it } from "vitest";
import type { InstanceView } from "$lib/bindings";
import {
  instanceActions,
  sortInstances,
  sourceLabel,
  stateLabel,
  teardownConfirmed,
} from "./instances";

const view = (extra: Partial<InstanceView> = {}): InstanceView => ({
  name: "acme",
  subscriptionId: "sub",
  resourceGroup: "rg-acme",
  location: "eastus",
  version: "1.0.0",
  state: "deployed",
  source: "journal",
  lastRunId: "run-1",
  ...extra,
});
const none = new Set<string>();

describe("instance actions", () => {
  it("offers update and teardown for a deployed instance recorded here", () => {
    expect(instanceActions(view(), none, null)).toEqual({
      resume: false,
      show: false,
      update: true,
      teardown: true,
      bundle: true,
      note: "",
    });
  });

  it("offers resume for an unwatched unfinished run, and nothing that would race it", () => {
    const a = instanceActions(view({ state: "deploying" }), new Set(["run-1"]), null);
    expect(a).toMatchObject({ resume: true, update: false, teardown: false });
    const watched = instanceActions(view({ state: "deploying" }), new Set(["run-1"]), "run-1");
    expect(watched).toMatchObject({ show: true, resume: false, teardown: false });
  });

  it("lets a failed install be torn down but not updated", () => {
    expect(instanceActions(view({ state: "failed" }), none, null)).toMatchObject({
      update: false,
      teardown: true,
    });
  });

  it("only tears down an instance found in Azure, and says why", () => {
    const a = instanceActions(view({ state: null, source: "azure", lastRunId: null }), none, null);
    expect(a).toMatchObject({ update: false, teardown: true, bundle: false, resume: false });
    expect(a.note).toMatch(/^Found in Azure by its tags/);
  });

  it("offers nothing but the bundle for a deleted instance", () => {
    expect(instanceActions(view({ state: "deleted" }), none, null)).toMatchObject({
      update: false,
      teardown: false,
      resume: false,
      bundle: true,
    });
  });
});

describe("instance list", () => {
  it("reads states and origins in words and lists deleted instances last", () => {
    expect(stateLabel("tearingDown")).toBe("Being deleted");
    expect(stateLabel(null)).toBe("In Azure");
    expect(sourceLabel("both")).toMatch(/this computer and found in the subscription/);
    const sorted = sortInstances([
      view({ name: "zed" }),
      view({ name: "acme", state: "deleted" }),
      view({ name: "beta" }),
    ]);
    expect(sorted.map((v) => v.name)).toEqual(["beta", "zed", "acme"]);
  });

  it("asks for the exact instance name before a teardown", () => {
    expect(teardownConfirmed(" acme ", "acme")).toBe(true);
    expect(teardownConfirmed("ACME", "acme")).toBe(false);
    expect(teardownConfirmed("acm", "acme")).toBe(false);
    expect(teardownConfirmed("", "")).toBe(false);
  });
});
