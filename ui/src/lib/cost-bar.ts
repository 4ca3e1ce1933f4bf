/**
 * The live cost as a stacked bar: one segment per category, in a fixed order so the colours
 * never swap places while the inputs change.
 */
import type { CostCategory, CostEstimate, CostLine } from "$lib/bindings";

/** The categories in bar order, with the label people see. */
export const CATEGORY_ORDER: readonly { id: CostCategory; label: string }[] = [
  { id: "compute", label: "Compute" },
  { id: "database", label: "Database" },
  { id: "storage", label: "Storage" },
  { id: "network", label: "Network" },
];

/** One segment of the bar. */
export interface CostSegment {
  /** The category. */
  category: CostCategory;
  /** Shown to people. */
  label: string;
  /** Monthly amount. */
  monthly: number;
  /** Share of the total, 0 to 100 (percent of the bar's width). */
  percent: number;
}

/** The segments of a cost estimate, empty categories left out, percents summing to 100. */
export function costSegments(estimate: CostEstimate): CostSegment[] {
  const amounts = CATEGORY_ORDER.map(({ id, label }) => ({
    category: id,
    label,
    monthly: Math.max(0, estimate.byCategory[id] ?? 0),
  })).filter((s) => s.monthly > 0);
  const sum = amounts.reduce((acc, s) => acc + s.monthly, 0);
  if (sum <= 0) {
    return [];
  }
  return amounts.map((s) => ({ ...s, percent: (s.monthly / sum) * 100 }));
}

/** A monthly amount as money, whole units above 100 (nobody reads cents on 1,234.56/month). */
export function formatMoney(amount: number, currency: string): string {
  const big = Math.abs(amount) >= 100;
  return new Intl.NumberFormat("en-US", {
    style: "currency",
    currency,
    minimumFractionDigits: big ? 0 : 2,
    maximumFractionDigits: big ? 0 : 2,
  }).format(amount);
}

/** One category of the review's cost breakdown. */
export interface CostGroup {
  category: CostCategory;
  label: string;
  /** The category's lines, manifest order, free lines left out. */
  lines: CostLine[];
  /** Their sum. */
  subtotal: number;
}

/** The estimate's lines grouped by category in bar order, empty categories left out. */
export function costBreakdown(estimate: CostEstimate): CostGroup[] {
  return CATEGORY_ORDER.map(({ id, label }) => {
    const lines = estimate.lines.filter((l) => l.category === id && l.monthly > 0);
    return {
      category: id,
      label,
      lines,
      subtotal: lines.reduce((sum, l) => sum + l.monthly, 0),
    };
  }).filter((g) => g.lines.length > 0);
}
