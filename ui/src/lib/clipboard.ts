/**
 * Copying text for a person (a device code, an endpoint). The clipboard API may be missing
 * (an insecure context) or refuse (no permission): the caller then shows a message asking to
 * copy by hand, so the answer says which happened.
 */

/** The part of `navigator.clipboard` used here. */
export interface ClipboardLike {
  writeText(text: string): Promise<void>;
}

/** Whether the copy worked; never rejects. */
export async function copyText(text: string, clipboard?: ClipboardLike | null): Promise<boolean> {
  const target =
    clipboard === undefined
      ? (globalThis.navigator as Navigator | undefined)?.clipboard
      : clipboard;
  if (target == null) {
    return false;
  }
  try {
    await target.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** The message shown when copying did not work. */
export function copyFallback(what: string): string {
  return `Could not copy the ${what}: select it and press Ctrl+C (⌘C on a Mac).`;
}
