import { describe, expect, it } from "vitest";
import type { CostEstimate } from "$lib/bindings";
import { costBreakdown, costSegments, formatMoney } from "./cost-bar";

function estimate(byCategory: CostEstimate["byCategory"]): CostEstimate {
  return {
    currency: "USD",
    priceDate: "2025-01-01",
    source: "test",
    lines: [],
    byCategory,
    total: 0,
  };
}

describe("cost bar", () => {
  it("keeps the fixed category order and sums to 100 percent", () => {
    const segs = costSegments(estimate({ network: 25, compute: 50, storage: 25, database: 0 }));
    expect(segs.map((s) => s.category)).toEqual(["compute", "storage", "network"]);
    expect(segs.map((s) => s.percent)).toEqual([50, 25, 25]);
  });
  it("draws nothing for a zero estimate and ignores negative amounts", () => {
    expect(costSegments(estimate({ compute: 0 }))).toEqual([]);
    expect(costSegments(estimate({ compute: -5, database: 10 })).map((s) => s.percent)).toEqual([
      100,
    ]);
  });
  it("formats big amounts without cents and small ones with", () => {
    expect(formatMoney(1234.56, "USD")).toBe("$1,235");
    expect(formatMoney(12.5, "USD")).toBe("$12.50");
  });
  it("groups the lines by category in bar order for the review's breakdown", () => {
    const line = (
      label: string,
      category: CostEstimate["lines"][number]["category"],
      monthly: number,
    ) => ({
      label,
      category,
      stage: "s",
      monthly,
    });
    const groups = costBreakdown({
      ...estimate({}),
      lines: [
        line("Blob", "storage", 2),
        line("Nodes", "compute", 140),
        line("Uptime SLA", "compute", 0),
        line("Disks", "compute", 10),
      ],
    });
    expect(groups.map((g) => [g.label, g.lines.map((l) => l.label), g.subtotal])).toEqual([
      ["Compute", ["Nodes", "Disks"], 150],
      ["Storage", ["Blob"], 2],
    ]);
  });
});
