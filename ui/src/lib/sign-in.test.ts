import { describe, expect, it } from "vitest";
import type { CloudOption, Session } from "$lib/backend";
import {
  sessionDetails,
  emptySignInForm,
  isGuid,
  toSignInMethod,
  validateSignIn,
  waitingText,
} from "./sign-in";

const clouds: CloudOption[] = [
  { name: "AzureCloud", label: "Azure (global)" },
  { name: "AzureUSGovernment", label: "Azure US Government" },
];
const guid = "3f1c5d2e-8a4b-4c6d-9e7f-0a1b2c3d4e5f";

describe("sign-in form", () => {
  it("recognises GUID shapes only", () => {
    expect(isGuid(guid)).toBe(true);
    expect(isGuid(` ${guid.toUpperCase()} `)).toBe(true);
    expect(isGuid("3f1c5d2e8a4b4c6d9e7f0a1b2c3d4e5f")).toBe(false);
    expect(isGuid("3f1c5d2e-8a4b-4c6d-9e7f-0a1b2c3d4e5g")).toBe(false);
  });

  it("names the field and the rule for a service principal", () => {
    const form = { ...emptySignInForm(), method: "servicePrincipal" as const, clientId: "app" };
    const errors = validateSignIn(form, clouds);
    expect(errors.tenantId).toBe("Tenant ID is required.");
    expect(errors.clientId).toMatch(/^Client ID must be a GUID: 8-4-4-4-12 hexadecimal digits/);
    expect(errors.clientSecret).toBe("Client secret is required.");
    expect(toSignInMethod(form, clouds)).toBeNull();
  });

  it("builds a service principal method with trimmed IDs and the secret as typed", () => {
    const form = {
      ...emptySignInForm(),
      method: "servicePrincipal" as const,
      cloud: "AzureUSGovernment",
      tenantId: ` ${guid}`,
      clientId: guid,
      clientSecret: " s3cret ",
      tenant: "ignored for this method",
    };
    expect(validateSignIn(form, clouds)).toEqual({});
    expect(toSignInMethod(form, clouds)).toEqual({
      kind: "servicePrincipal",
      cloud: "AzureUSGovernment",
      tenantId: guid,
      clientId: guid,
      clientSecret: " s3cret ",
    });
  });

  it("takes an optional tenant as an ID or a domain for interactive methods", () => {
    const base = { ...emptySignInForm(), method: "deviceCode" as const };
    expect(toSignInMethod(base, clouds)).toEqual({
      kind: "deviceCode",
      cloud: "AzureCloud",
      tenant: null,
    });
    expect(toSignInMethod({ ...base, tenant: "contoso.onmicrosoft.com" }, clouds)).toMatchObject({
      tenant: "contoso.onmicrosoft.com",
    });
    expect(validateSignIn({ ...base, tenant: "not a tenant" }, clouds).tenant).toMatch(
      /^Tenant must be a tenant ID/,
    );
    expect(validateSignIn({ ...base, cloud: "Mars" }, clouds).cloud).toBe(
      "Cloud must be one of Azure (global), Azure US Government.",
    );
  });

  it("says what the screen waits for and who is signed in", () => {
    expect(waitingText("browser", { kind: "openBrowser", url: "https://x" })).toBe(
      "Waiting for you to finish in your browser",
    );
    expect(
      waitingText("deviceCode", {
        kind: "deviceCode",
        userCode: "ABCD-EFGH",
        verificationUri: "https://microsoft.com/devicelogin",
        message: "",
      }),
    ).toMatch(/Enter this code/);
    const session: Session = {
      demo: false,
      who: "admin@contoso.com",
      tenantId: guid,
      cloud: "AzureCloud",
      method: "browser",
      unfinishedRuns: [],
    };
    expect(sessionDetails(session, clouds)).toBe("with browser, Azure (global)");
    expect(sessionDetails({ ...session, cloud: "Elsewhere" }, clouds)).toBe(
      "with browser, Elsewhere",
    );
    expect(sessionDetails({ ...session, demo: true }, clouds)).toBe("on the simulated Azure");
  });
});
