/**
 * The sizing form, generated from the manifest's inputs: which control each input gets, how a
 * typed value becomes the value sent to the engine, which validation messages show where, and
 * which preset the current values match. The engine validates; this module only displays.
 */
import type { InputDef, InputError, Manifest, Preset } from "$lib/bindings";

/** A value of one input as the form holds it. */
export type InputValue = string | number | boolean;

/** The form's values, by input name. */
export type InputValues = Record<string, InputValue>;

/** The control an input gets. */
export type Control = "select" | "number" | "toggle" | "text" | "secret";

/** One field of the generated form. */
export interface FieldView {
  /** Input name (also the element id suffix). */
  name: string;
  /** Shown to people. */
  label: string;
  /** Help under the field. */
  help: string;
  /** The control. */
  control: Control;
  /** Choices for a select. */
  options: string[];
  /** Bounds for a number. */
  min: number | null;
  /** Bounds for a number. */
  max: number | null;
  /** `nodes`, `GiB`... */
  unit: string | null;
  /** The engine generates a value when left empty (a password). */
  generated: boolean;
}

/** One group of fields. */
export interface GroupView {
  /** Group name. */
  name: string;
  /** Shown to people. */
  label: string;
  /** Collapsed under "advanced" by default. */
  advanced: boolean;
  /** Its fields, manifest order. */
  fields: FieldView[];
}

/** Groups shown on other screens, not in the sizing form. */
export const NOT_SIZING = new Set(["basics"]);

/** The control for an input. */
export function controlFor(def: InputDef): Control {
  if (def.type === "bool") {
    return "toggle";
  }
  if (def.type === "secret") {
    return "secret";
  }
  if (def.allowed != null && def.allowed.length > 0) {
    return "select";
  }
  return def.type === "int" ? "number" : "text";
}

/** The field for an input. */
export function fieldFor(def: InputDef): FieldView {
  return {
    name: def.name,
    label: def.label,
    help: def.help,
    control: controlFor(def),
    options: (def.allowed ?? []).map((v) =>
      typeof v === "object" ? JSON.stringify(v) : String(v),
    ),
    min: def.min ?? null,
    max: def.max ?? null,
    unit: def.unit ?? null,
    generated: def.generate != null,
  };
}

/** The sizing form's groups, manifest order, leaving out groups owned by other screens. */
export function sizingGroups(manifest: Manifest): GroupView[] {
  return manifest.groups
    .filter((g) => !NOT_SIZING.has(g.name))
    .map((g) => ({
      name: g.name,
      label: g.label,
      advanced: g.advanced,
      fields: manifest.inputs.filter((i) => i.group === g.name).map(fieldFor),
    }))
    .filter((g) => g.fields.length > 0);
}

/** The manifest's defaults, secrets left empty (the engine generates or asks). */
export function defaultValues(manifest: Manifest): InputValues {
  const values: InputValues = {};
  for (const def of manifest.inputs) {
    const v = def.default;
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
      values[def.name] = v;
    }
  }
  return values;
}

/**
 * What the control's raw value becomes. A number field that does not hold a whole number is
 * kept as text, so the engine names the input and the rule instead of the UI guessing.
 */
export function parseFieldValue(field: FieldView, raw: string | boolean): InputValue {
  if (field.control === "toggle") {
    return raw === true || raw === "true";
  }
  const text = String(raw);
  if (field.control === "number") {
    const trimmed = text.trim();
    return /^-?\d+$/.test(trimmed) ? Number(trimmed) : text;
  }
  return text;
}

/** Validation messages as the form shows them. */
export interface Messages {
  /** Messages under each field, by input name. */
  byField: Record<string, string[]>;
  /** Messages for inputs that have no field on this screen. */
  other: string[];
}

/**
 * Which messages show: a field's messages once it was changed (or the user tried to go on),
 * never before, so a fresh form is not red. Messages for inputs not on this screen show only
 * after trying to go on.
 */
export function visibleMessages(
  errors: readonly InputError[],
  fieldNames: ReadonlySet<string>,
  touched: ReadonlySet<string>,
  attempted: boolean,
): Messages {
  const byField: Record<string, string[]> = {};
  const other: string[] = [];
  for (const e of errors) {
    if (fieldNames.has(e.input)) {
      if (attempted || touched.has(e.input)) {
        (byField[e.input] ??= []).push(e.message);
      }
    } else if (attempted) {
      other.push(e.message);
    }
  }
  return { byField, other };
}

/** The preset whose every value the form currently holds, or null ("custom"). */
export function matchingPreset(presets: readonly Preset[], values: InputValues): string | null {
  const hit = presets.find((p) => Object.entries(p.values).every(([k, v]) => values[k] === v));
  return hit?.name ?? null;
}

/** The form's values with a preset applied over them (other inputs kept). */
export function withPreset(values: InputValues, preset: Preset): InputValues {
  const next: InputValues = { ...values };
  for (const [k, v] of Object.entries(preset.values)) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
      next[k] = v;
    }
  }
  return next;
}

/** The few specs a preset card shows. */
export interface PresetSpecs {
  /** `1 × D2s_v5 system, 2 × D4s_v5 workload (autoscale 2 to 5)`. */
  cluster: string;
  /** `B2ms, 64 GiB` (+ `, zone-redundant HA`). */
  database: string;
  /** `LRS storage, Basic registry`. */
  storage: string;
}

function vm(size: unknown): string {
  return String(size).replace(/^Standard_/, "");
}

/** The specs that matter for a preset card (values missing in the preset come from `base`). */
export function presetSpecs(preset: Preset, base: InputValues): PresetSpecs {
  const v = (k: string): unknown => preset.values[k] ?? base[k];
  const autoscale =
    v("userNodeMin") !== undefined && v("userNodeMax") !== undefined
      ? ` (autoscale ${String(v("userNodeMin"))} to ${String(v("userNodeMax"))})`
      : "";
  const ha = v("mysqlHighAvailability") === true ? ", zone-redundant HA" : "";
  return {
    cluster: `${String(v("systemNodeCount"))} × ${vm(v("systemNodeVmSize"))} system, ${String(v("userNodeCount"))} × ${vm(v("userNodeVmSize"))} workload${autoscale}`,
    database: `${vm(v("mysqlSku"))}, ${String(v("mysqlStorageGb"))} GiB${ha}`,
    storage: `${String(v("storageRedundancy"))} storage, ${String(v("registrySku"))} registry`,
  };
}
