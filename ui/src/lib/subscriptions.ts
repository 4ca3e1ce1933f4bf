/**
 * The subscription screen's rules: which tenant and subscription are chosen by default (the
 * remembered one when it still can be used), the search, and why a subscription that is not
 * `Enabled` cannot be chosen.
 */
import type { SubscriptionSummary, TenantSummary } from "$lib/backend";

/** Whether a subscription can be deployed to, and why not in plain words. */
export interface Availability {
  selectable: boolean;
  /** Shown next to a subscription that cannot be chosen; empty when it can. */
  why: string;
}

/** Whether a subscription in this state can be deployed to (only `Enabled`). */
export function availability(state: string): Availability {
  switch (state) {
    case "Enabled":
      return { selectable: true, why: "" };
    case "Warned":
      return {
        selectable: false,
        why: "Warned: Azure is about to disable it (a payment or spending limit problem). Settle it in the Azure portal first.",
      };
    case "PastDue":
      return {
        selectable: false,
        why: "Past due: a payment is overdue, so Azure refuses new resources until it is paid.",
      };
    case "Disabled":
      return {
        selectable: false,
        why: "Disabled: it expired, was cancelled or ran out of credit. Re-enable it in the Azure portal.",
      };
    case "Deleted":
      return { selectable: false, why: "Deleted: it no longer exists." };
    default:
      return {
        selectable: false,
        why: `${state}: only Enabled subscriptions can be deployed to.`,
      };
  }
}

/** The tenants, the current one first, then by name. */
export function sortTenants(tenants: readonly TenantSummary[]): TenantSummary[] {
  return [...tenants].sort(
    (a, b) => Number(b.current) - Number(a.current) || a.displayName.localeCompare(b.displayName),
  );
}

/** The tenant chosen by default: the remembered one if listed, else the current one, else the first. */
export function defaultTenant(
  tenants: readonly TenantSummary[],
  remembered: string | null,
): string {
  const hit = tenants.find((t) => t.tenantId === remembered);
  return (hit ?? tenants.find((t) => t.current) ?? tenants[0])?.tenantId ?? "";
}

/**
 * The subscriptions of a tenant (all when `tenantId` is empty) whose name or ID contains the
 * query, ignoring case and spaces around it; selectable ones first, then by name.
 */
export function filterSubscriptions(
  subscriptions: readonly SubscriptionSummary[],
  tenantId: string,
  query: string,
): SubscriptionSummary[] {
  const q = query.trim().toLowerCase();
  return subscriptions
    .filter((s) => tenantId === "" || s.tenantId === tenantId)
    .filter(
      (s) =>
        q === "" ||
        s.displayName.toLowerCase().includes(q) ||
        s.subscriptionId.toLowerCase().includes(q),
    )
    .sort(
      (a, b) =>
        Number(availability(b.state).selectable) - Number(availability(a.state).selectable) ||
        a.displayName.localeCompare(b.displayName),
    );
}

/**
 * The subscription chosen by default in a tenant: the current choice or the remembered one if
 * it can still be used there, else the first that can, else none ("").
 */
export function defaultSubscription(
  subscriptions: readonly SubscriptionSummary[],
  tenantId: string,
  preferred: readonly (string | null)[],
): string {
  const usable = filterSubscriptions(subscriptions, tenantId, "").filter(
    (s) => availability(s.state).selectable,
  );
  for (const id of preferred) {
    const hit = usable.find((s) => s.subscriptionId === id);
    if (hit !== undefined) {
      return hit.subscriptionId;
    }
  }
  return usable[0]?.subscriptionId ?? "";
}

/** Why Continue is disabled, or null when the choice can be used. */
export function blockedReason(
  subscriptions: readonly SubscriptionSummary[],
  chosen: string,
): string | null {
  const sub = subscriptions.find((s) => s.subscriptionId === chosen);
  if (sub === undefined) {
    return "Choose a subscription to deploy to.";
  }
  const a = availability(sub.state);
  return a.selectable ? null : `${sub.displayName} cannot be used. ${a.why}`;
}
