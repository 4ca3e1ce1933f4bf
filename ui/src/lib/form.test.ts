import { describe, expect, it } from "vitest";
import { MANIFEST, checkInputs } from "./mock-backend";
import {
  defaultValues,
  matchingPreset,
  parseFieldValue,
  presetSpecs,
  sizingGroups,
  visibleMessages,
  withPreset,
} from "./form";

describe("sizing form", () => {
  it("generates groups from the manifest, leaving basics to their own screen", () => {
    const groups = sizingGroups(MANIFEST);
    expect(groups.map((g) => g.name)).toEqual([
      "cluster",
      "database",
      "storage",
      "network",
      "monitoring",
    ]);
    expect(groups.find((g) => g.name === "network")?.advanced).toBe(true);
    const fields = groups.flatMap((g) => g.fields);
    expect(fields.find((f) => f.name === "userNodeVmSize")?.control).toBe("select");
    expect(fields.find((f) => f.name === "systemNodeCount")).toMatchObject({
      control: "number",
      min: 1,
      max: 10,
      unit: "nodes",
    });
    expect(fields.find((f) => f.name === "mysqlHighAvailability")?.control).toBe("toggle");
    expect(fields.find((f) => f.name === "mysqlAdminPassword")).toMatchObject({
      control: "secret",
      generated: true,
    });
  });
  it("keeps a number field that is not a whole number as text for the engine to reject", () => {
    const field = sizingGroups(MANIFEST)
      .flatMap((g) => g.fields)
      .find((f) => f.name === "systemNodeCount");
    expect(field).toBeDefined();
    if (field) {
      expect(parseFieldValue(field, " 4 ")).toBe(4);
      expect(parseFieldValue(field, "4.5")).toBe("4.5");
      expect(parseFieldValue(field, "")).toBe("");
    }
  });
  it("shows a field's messages only once touched, others only after trying to go on", () => {
    const errors = [
      { input: "userNodeMax", rule: "rule", message: "max below min" },
      { input: "systemNodeCount", rule: "min", message: "too few" },
      { input: "name", rule: "required", message: "name needed" },
    ];
    const fields = new Set(["userNodeMax", "systemNodeCount"]);
    expect(visibleMessages(errors, fields, new Set(), false)).toEqual({ byField: {}, other: [] });
    expect(visibleMessages(errors, fields, new Set(["userNodeMax"]), false)).toEqual({
      byField: { userNodeMax: ["max below min"] },
      other: [],
    });
    expect(visibleMessages(errors, fields, new Set(), true)).toEqual({
      byField: { userNodeMax: ["max below min"], systemNodeCount: ["too few"] },
      other: ["name needed"],
    });
  });
  it("recognises a preset until a value changes, and describes its specs", () => {
    const medium = MANIFEST.presets.find((p) => p.name === "medium");
    expect(medium).toBeDefined();
    if (!medium) return;
    const values = withPreset(defaultValues(MANIFEST), medium);
    expect(matchingPreset(MANIFEST.presets, values)).toBe("medium");
    expect(matchingPreset(MANIFEST.presets, { ...values, userNodeCount: 4 })).toBeNull();
    expect(presetSpecs(medium, values)).toEqual({
      cluster: "2 × D4s_v5 system, 3 × D8s_v5 workload (autoscale 3 to 10)",
      database: "D4ds_v4, 256 GiB, zone-redundant HA",
      storage: "ZRS storage, Standard registry",
    });
  });
  it("mock checks name the input and use the manifest's own rule messages", () => {
    const values = { ...defaultValues(MANIFEST), name: "Bad_Name", userNodeMin: 4, userNodeMax: 2 };
    const errors = checkInputs(MANIFEST, values);
    expect(errors.map((e) => `${e.input}:${e.rule}`)).toEqual(
      expect.arrayContaining(["name:charset", "userNodeMax:rule", "userNodeCount:rule"]),
    );
    expect(errors.find((e) => e.input === "userNodeMax")?.message).toBe(
      "The maximum of workload nodes must be at least the minimum.",
    );
    expect(checkInputs(MANIFEST, { ...defaultValues(MANIFEST), name: "acme" })).toEqual([]);
  });
});
