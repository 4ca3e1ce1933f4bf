/**
 * The sign-in screen's form: the four ways to sign in, what each needs, the checks made before
 * asking Azure (each message names the field and the rule), and the `SignInMethod` sent to the
 * shell. Azure checks the credentials themselves; this only catches what is certainly wrong.
 */
import type { CloudOption, Session, SignInMethod, SignInPrompt } from "$lib/backend";

/** A way to sign in. */
export type MethodKind = SignInMethod["kind"];

/** The methods in the order the screen offers them, with what people read. */
export const METHODS: readonly { kind: MethodKind; label: string; help: string }[] = [
  {
    kind: "browser",
    label: "In your browser",
    help: "The usual way: your browser opens the Microsoft sign-in page, with multi-factor authentication if your organisation uses it.",
  },
  {
    kind: "deviceCode",
    label: "With a device code",
    help: "For a locked-down machine: type a short code on another device that has a browser.",
  },
  {
    kind: "servicePrincipal",
    label: "With a service principal",
    help: "For automation: an app registration's tenant ID, client ID and client secret.",
  },
  {
    kind: "azureCli",
    label: "With the Azure CLI session",
    help: "Reuse the account you signed in to with `az login` on this machine.",
  },
];

/** What the form holds (kept when going back, never written anywhere). */
export interface SignInForm {
  method: MethodKind;
  /** A {@link CloudOption} name. */
  cloud: string;
  /** Optional tenant for browser, device code and CLI (ID or domain). */
  tenant: string;
  /** Service principal: tenant ID (GUID). */
  tenantId: string;
  /** Service principal: application (client) ID (GUID). */
  clientId: string;
  /** Service principal: client secret. */
  clientSecret: string;
}

/** A fresh form: browser sign-in to the global cloud. */
export function emptySignInForm(): SignInForm {
  return {
    method: "browser",
    cloud: "AzureCloud",
    tenant: "",
    tenantId: "",
    clientId: "",
    clientSecret: "",
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN =
  /^(?=.{4,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const EXAMPLE_GUID = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/** Whether a string has the shape of a GUID (8-4-4-4-12 hexadecimal digits). */
export function isGuid(value: string): boolean {
  return GUID.test(value.trim());
}

/** The form's fields that can carry a message. */
export type SignInField = "cloud" | "tenant" | "tenantId" | "clientId" | "clientSecret";

/** Field labels as the screen shows them (messages start with them). */
export const FIELD_LABELS: Record<SignInField, string> = {
  cloud: "Cloud",
  tenant: "Tenant",
  tenantId: "Tenant ID",
  clientId: "Client ID",
  clientSecret: "Client secret",
};

function guidMessage(field: SignInField, value: string): string | undefined {
  const label = FIELD_LABELS[field];
  if (value.trim() === "") {
    return `${label} is required.`;
  }
  if (!isGuid(value)) {
    return `${label} must be a GUID: 8-4-4-4-12 hexadecimal digits, such as ${EXAMPLE_GUID}.`;
  }
  return undefined;
}

/**
 * Messages by field for what is certainly wrong, empty when the form can be sent. Only the
 * fields of the chosen method are checked.
 */
export function validateSignIn(
  form: SignInForm,
  clouds: readonly CloudOption[],
): Partial<Record<SignInField, string>> {
  const errors: Partial<Record<SignInField, string>> = {};
  if (clouds.length > 0 && !clouds.some((c) => c.name === form.cloud)) {
    errors.cloud = `Cloud must be one of ${clouds.map((c) => c.label).join(", ")}.`;
  }
  if (form.method === "servicePrincipal") {
    const tenantId = guidMessage("tenantId", form.tenantId);
    if (tenantId !== undefined) {
      errors.tenantId = tenantId;
    }
    const clientId = guidMessage("clientId", form.clientId);
    if (clientId !== undefined) {
      errors.clientId = clientId;
    }
    if (form.clientSecret === "") {
      errors.clientSecret = "Client secret is required.";
    }
  } else {
    const t = form.tenant.trim();
    if (t !== "" && !isGuid(t) && !DOMAIN.test(t)) {
      errors.tenant = `Tenant must be a tenant ID (a GUID such as ${EXAMPLE_GUID}) or a domain such as contoso.onmicrosoft.com; leave it empty for your home tenant.`;
    }
  }
  return errors;
}

/** The method to send, or null while {@link validateSignIn} finds a problem. */
export function toSignInMethod(
  form: SignInForm,
  clouds: readonly CloudOption[],
): SignInMethod | null {
  if (Object.keys(validateSignIn(form, clouds)).length > 0) {
    return null;
  }
  const cloud = form.cloud;
  const tenant = form.tenant.trim() === "" ? null : form.tenant.trim();
  switch (form.method) {
    case "browser":
      return { kind: "browser", cloud, tenant };
    case "deviceCode":
      return { kind: "deviceCode", cloud, tenant };
    case "azureCli":
      return { kind: "azureCli", cloud, tenant };
    case "servicePrincipal":
      return {
        kind: "servicePrincipal",
        cloud,
        tenantId: form.tenantId.trim(),
        clientId: form.clientId.trim(),
        clientSecret: form.clientSecret,
      };
  }
}

/** What the screen says while a sign-in waits for the person. */
export function waitingText(method: MethodKind, prompt: SignInPrompt | null): string {
  if (prompt?.kind === "deviceCode") {
    return "Enter this code on the Microsoft sign-in page, on any device with a browser.";
  }
  switch (method) {
    case "browser":
      return "Waiting for you to finish in your browser";
    case "deviceCode":
      return "Asking Microsoft for a code…";
    case "servicePrincipal":
      return "Checking the service principal with Microsoft…";
    case "azureCli":
      return "Reading the Azure CLI session…";
  }
}

/** A cloud's label, or its name when it is not among the options. */
export function cloudLabel(name: string, clouds: readonly CloudOption[]): string {
  return clouds.find((c) => c.name === name)?.label ?? name;
}

/** How a session signed in, after its user: "with browser, Azure (global)". */
export function sessionDetails(session: Session, clouds: readonly CloudOption[]): string {
  return session.demo
    ? "on the simulated Azure"
    : `with ${session.method}, ${cloudLabel(session.cloud, clouds)}`;
}
