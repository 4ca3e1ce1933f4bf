/**
 * The desktop shell's wire types are generated now (src-tauri/src/wire.rs → `$lib/bindings`);
 * this module only forwards them until every import says `$lib/backend`. Do not add types here.
 */
export type { DeployRequest } from "$lib/backend";
export type {
  CloudOption,
  DemoOptions,
  DeployTarget,
  InputsCheck,
  ReviewPlan,
  SavedFile,
  Session,
  SignInMethod,
  SignInPrompt,
  SubscriptionSummary,
  TenantSummary,
} from "$lib/bindings";
