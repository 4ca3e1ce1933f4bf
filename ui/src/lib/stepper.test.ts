import { describe, expect, it } from "vitest";
import { canOpen, isStep, marks, nextStep, previousStep, reach, stepIndex } from "./stepper";

const fresh = { furthest: 3, deployStarted: false, deployFinished: false };

describe("stepper", () => {
  it("allows going back to any step reached before a deploy", () => {
    expect(canOpen("signIn", "sizing", fresh)).toBe(true);
    expect(canOpen("basics", "sizing", fresh)).toBe(true);
  });
  it("refuses jumping past the furthest step reached", () => {
    expect(canOpen("review", "sizing", fresh)).toBe(false);
    expect(canOpen("deploy", "sizing", fresh)).toBe(false);
    expect(canOpen("done", "sizing", fresh)).toBe(false);
  });
  it("locks the steps that shaped a run once it started, and opens done only when finished", () => {
    const running = { furthest: 5, deployStarted: true, deployFinished: false };
    expect(canOpen("sizing", "deploy", running)).toBe(false);
    expect(canOpen("done", "deploy", running)).toBe(false);
    expect(canOpen("done", "deploy", { ...running, deployFinished: true })).toBe(true);
    expect(canOpen("deploy", "done", { ...running, deployFinished: true })).toBe(true);
  });
  it("marks done, current, reachable and locked steps", () => {
    expect(marks("basics", fresh)).toEqual([
      "done",
      "done",
      "current",
      "reachable",
      "locked",
      "locked",
      "locked",
    ]);
    expect(marks("deploy", { furthest: 5, deployStarted: true, deployFinished: false })).toEqual([
      "done",
      "done",
      "done",
      "done",
      "done",
      "current",
      "locked",
    ]);
  });
  it("walks forward and back through the steps", () => {
    expect(nextStep("welcome")).toBe("signIn");
    expect(nextStep("review")).toBe("deploy");
    expect(nextStep("done")).toBeUndefined();
    expect(previousStep("signIn")).toBe("welcome");
    expect(previousStep("sizing")).toBe("basics");
    expect(reach(2, "review")).toBe(stepIndex("review"));
    expect(reach(4, "basics")).toBe(4);
    expect(reach(4, "welcome")).toBe(4);
  });
  it("keeps the instances screen beside the steps, reachable steps unchanged", () => {
    expect(isStep("instances")).toBe(false);
    expect(isStep("review")).toBe(true);
    expect(reach(2, "instances")).toBe(2);
    expect(nextStep("instances")).toBe("signIn");
    expect(marks("instances", fresh)).toEqual([
      "reachable",
      "reachable",
      "reachable",
      "reachable",
      "locked",
      "locked",
      "locked",
    ]);
    expect(canOpen("sizing", "instances", fresh)).toBe(true);
  });
});
