import { describe, expect, it } from "vitest";
import { MANIFEST } from "./mock-backend";
import {
  defaultResourceGroup,
  effectiveResourceGroup,
  regions,
  resourceGroupError,
} from "./basics";

describe("basics", () => {
  it("defaults the resource group to rg-<name> when the field is empty", () => {
    expect(defaultResourceGroup("acme")).toBe("rg-acme");
    expect(effectiveResourceGroup("  ", { name: "acme" })).toBe("rg-acme");
    expect(effectiveResourceGroup(" rg-shared ", { name: "acme" })).toBe("rg-shared");
  });

  it("checks the resource group against Azure's naming rule, naming the field", () => {
    expect(resourceGroupError("")).toBeNull();
    expect(resourceGroupError("rg_data.platform(prod)-1")).toBeNull();
    expect(resourceGroupError("rg données")).toMatch(/^Resource group may only contain/);
    expect(resourceGroupError("rg-acme.")).toBe("Resource group must not end with a period.");
    expect(resourceGroupError("r".repeat(91))).toBe(
      "Resource group must be at most 90 characters long (it has 91).",
    );
  });

  it("offers the location input's allowed regions", () => {
    expect(regions(MANIFEST)).toContain("westeurope");
    expect(regions(MANIFEST)[0]).toBe("eastus");
    expect(regions(null)).toEqual([]);
  });
});
