/**
 * The basics screen's own rules: the inputs it owns (the engine validates them with the
 * manifest's rules), the region choices, and the resource group, which is not a manifest input:
 * empty means the default `rg-<name>`, anything else must follow Azure's naming rule.
 */
import type { Manifest } from "$lib/bindings";
import type { InputValues } from "$lib/form";

/** The manifest inputs this screen owns. */
export const BASICS_INPUTS = ["name", "location"] as const;

/** The resource group used when the field is left empty. */
export function defaultResourceGroup(name: string): string {
  return `rg-${name === "" ? "<name>" : name}`;
}

/** The resource group the request will use (empty for the default, which the backend names). */
export function effectiveResourceGroup(typed: string, values: InputValues): string {
  const t = typed.trim();
  return t === "" ? defaultResourceGroup(typeof values.name === "string" ? values.name : "") : t;
}

/** The regions offered: the location input's allowed values, manifest order. */
export function regions(manifest: Manifest | null): string[] {
  const def = manifest?.inputs.find((i) => i.name === "location");
  return (def?.allowed ?? []).map(String);
}

// Azure: 1 to 90 letters, digits, underscores, parentheses, hyphens and periods, not ending in a period.
const RG_CHARS = /^[\p{L}\p{N}_().-]+$/u;

/** The resource group field's message, or null when it is fine (empty is fine: the default). */
export function resourceGroupError(typed: string): string | null {
  const t = typed.trim();
  if (t === "") {
    return null;
  }
  if (t.length > 90) {
    return `Resource group must be at most 90 characters long (it has ${t.length}).`;
  }
  if (!RG_CHARS.test(t)) {
    return "Resource group may only contain letters, digits, underscores, parentheses, hyphens and periods.";
  }
  if (t.endsWith(".")) {
    return "Resource group must not end with a period.";
  }
  return null;
}
