/**
 * PENDING: hand-written stand-ins for wire types that are not generated from Rust yet (the
 * desktop shell's sign-in and subscription commands do not exist). Replace each with its
 * generated type from `$lib/bindings` as soon as the shell defines it; do not add engine types.
 */

/** How to sign in (the shell's `sign_in` argument). */
export type SignInMethod =
  | { kind: "browser"; cloud: string }
  | { kind: "deviceCode"; cloud: string }
  | { kind: "azureCli" }
  | { kind: "servicePrincipal"; tenantId: string; clientId: string; cloud: string };

/** A subscription as the subscription screen lists it. */
export interface SubscriptionSummary {
  /** The GUID. */
  subscriptionId: string;
  /** Its name. */
  displayName: string;
  /** Its tenant. */
  tenantId: string;
}
