import { describe, expect, it } from "vitest";
import { copyFallback, copyText } from "./clipboard";

describe("copy", () => {
  it("answers true when the clipboard took the text", async () => {
    const taken: string[] = [];
    const ok = await copyText("ABCD-EFGH", {
      writeText: (t) => {
        taken.push(t);
        return Promise.resolve();
      },
    });
    expect(ok).toBe(true);
    expect(taken).toEqual(["ABCD-EFGH"]);
  });

  it("answers false without a clipboard or when it refuses, and says what to do", async () => {
    expect(await copyText("x", null)).toBe(false);
    expect(
      await copyText("x", { writeText: () => Promise.reject(new Error("NotAllowedError")) }),
    ).toBe(false);
    expect(copyFallback("code")).toBe(
      "Could not copy the code: select it and press Ctrl+C (⌘C on a Mac).",
    );
  });
});
