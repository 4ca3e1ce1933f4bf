//! Parameters: the template's declarations, the values a deployment supplies (parameter files,
//! Key Vault references), and ARM's validation rules.

use indexmap::IndexMap;

use crate::error::{ErrorCode, TemplateError};
use crate::json::{self, Spans};
use crate::value::{Deferred, Object, Value, get_ci};

/// A parameter as the template declares it.
#[derive(Clone, Debug)]
pub struct ParameterDef {
    /// Name as declared.
    pub name: String,
    /// Declared type, lower-cased (`string`, `securestring`, `int`, `bool`, `object`,
    /// `secureobject`, `array`); `None` when only a `$ref` type could not be resolved.
    pub ty: Option<String>,
    /// Default value (a template value, possibly an expression).
    pub default: Option<Value>,
    /// `allowedValues`.
    pub allowed: Option<Vec<Value>>,
    /// `minValue`.
    pub min_value: Option<i64>,
    /// `maxValue`.
    pub max_value: Option<i64>,
    /// `minLength`.
    pub min_length: Option<i64>,
    /// `maxLength`.
    pub max_length: Option<i64>,
    /// `nullable` (languageVersion 2.0): null when not supplied.
    pub nullable: bool,
    /// `metadata.description`.
    pub description: Option<String>,
}

impl ParameterDef {
    /// True for `secureString` and `secureObject`.
    pub fn is_secure(&self) -> bool {
        matches!(self.ty.as_deref(), Some("securestring" | "secureobject"))
    }

    /// Reads one declaration; `defs` is the template's `definitions` for `$ref` types.
    pub fn parse(
        name: &str,
        v: &Value,
        defs: Option<&Object>,
        path: &str,
    ) -> Result<ParameterDef, TemplateError> {
        let Value::Object(o) = v else {
            return Err(TemplateError::new(
                ErrorCode::InvalidTemplate,
                format!("The template parameter '{name}' must be an object with a 'type'."),
            )
            .at_path(path));
        };
        let merged = resolve_ref(o, defs, 0)
            .map_err(|m| TemplateError::new(ErrorCode::InvalidTemplate, m).at_path(path))?;
        let ty = match get_ci(&merged, "type") {
            Some(Value::String(t)) => {
                let t = t.to_ascii_lowercase();
                if !matches!(
                    t.as_str(),
                    "string"
                        | "securestring"
                        | "int"
                        | "bool"
                        | "object"
                        | "secureobject"
                        | "array"
                ) {
                    return Err(TemplateError::new(
                        ErrorCode::InvalidTemplate,
                        format!(
                            "The template parameter '{name}' has an invalid type '{t}'. The supported types are 'string, securestring, int, bool, object, secureObject, array'."
                        ),
                    )
                    .at_path(format!("{path}.type")));
                }
                Some(t)
            }
            Some(_) => {
                return Err(TemplateError::new(
                    ErrorCode::InvalidTemplate,
                    format!("The type of the template parameter '{name}' must be a string."),
                )
                .at_path(format!("{path}.type")));
            }
            None if merged.contains_key("properties")
                || merged.contains_key("additionalProperties") =>
            {
                Some("object".into())
            }
            None if merged.contains_key("items") || merged.contains_key("prefixItems") => {
                Some("array".into())
            }
            None if get_ci(o, "$ref").is_some() => None,
            None => {
                return Err(TemplateError::new(
                    ErrorCode::InvalidTemplate,
                    format!("The template parameter '{name}' is missing its 'type'."),
                )
                .at_path(path));
            }
        };
        let int_prop = |key: &str| -> Result<Option<i64>, TemplateError> {
            match get_ci(&merged, key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Int(i)) => Ok(Some(*i)),
                Some(_) => Err(TemplateError::new(
                    ErrorCode::InvalidTemplate,
                    format!("The '{key}' of the template parameter '{name}' must be an integer."),
                )
                .at_path(format!("{path}.{key}"))),
            }
        };
        let allowed = match get_ci(&merged, "allowedValues") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(_) => {
                return Err(TemplateError::new(
                    ErrorCode::InvalidTemplate,
                    format!(
                        "The 'allowedValues' of the template parameter '{name}' must be an array."
                    ),
                )
                .at_path(format!("{path}.allowedValues")));
            }
        };
        Ok(ParameterDef {
            name: name.to_owned(),
            ty,
            default: get_ci(&merged, "defaultValue").cloned(),
            allowed,
            min_value: int_prop("minValue")?,
            max_value: int_prop("maxValue")?,
            min_length: int_prop("minLength")?,
            max_length: int_prop("maxLength")?,
            nullable: matches!(get_ci(&merged, "nullable"), Some(Value::Bool(true))),
            description: get_ci(&merged, "metadata")
                .and_then(|m| m.get("description"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// Checks a value against this declaration; the message is ARM's.
    pub fn validate(&self, v: &Value) -> Result<(), String> {
        if v.contains_deferred() {
            return Ok(());
        }
        let name = &self.name;
        if v.is_null() && self.nullable {
            return Ok(());
        }
        if let Some(ty) = &self.ty {
            let (ok, expected) = match ty.as_str() {
                "string" | "securestring" => (matches!(v, Value::String(_)), "String"),
                "int" => (matches!(v, Value::Int(_)), "Integer"),
                "bool" => (matches!(v, Value::Bool(_)), "Boolean"),
                "object" | "secureobject" => (matches!(v, Value::Object(_)), "Object"),
                _ => (matches!(v, Value::Array(_)), "Array"),
            };
            if !ok {
                return Err(format!(
                    "The provided value for the template parameter '{name}' is not valid. Expected a value of type '{expected}', but received a value of type '{}'.",
                    v.type_name()
                ));
            }
        }
        if let Some(allowed) = &self.allowed {
            let fits = |x: &Value| allowed.iter().any(|a| a.arm_equals(x));
            let ok = match v {
                // For arrays ARM checks every element against the allowed values, unless the
                // whole array is itself one of them.
                Value::Array(items) if !fits(v) => items.iter().all(fits),
                other => fits(other),
            };
            if !ok {
                let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
                return Err(format!(
                    "The provided value '{}' for the template parameter '{name}' is not valid. The value is not part of the allowed value(s): '{}'.",
                    shown(self, v),
                    list.join(",")
                ));
            }
        }
        if let Value::Int(i) = v {
            if let Some(min) = self.min_value
                && *i < min
            {
                return Err(format!(
                    "The provided value '{i}' for the template parameter '{name}' is not valid. The value must be greater than or equal to '{min}'."
                ));
            }
            if let Some(max) = self.max_value
                && *i > max
            {
                return Err(format!(
                    "The provided value '{i}' for the template parameter '{name}' is not valid. The value must be less than or equal to '{max}'."
                ));
            }
        }
        let len = match v {
            Value::String(s) => Some(s.chars().count() as i64),
            Value::Array(a) => Some(a.len() as i64),
            _ => None,
        };
        if let Some(len) = len {
            if let Some(min) = self.min_length
                && len < min
            {
                return Err(format!(
                    "The provided value for the template parameter '{name}' is not valid. The length of the value ({len}) must be greater than or equal to '{min}'."
                ));
            }
            if let Some(max) = self.max_length
                && len > max
            {
                return Err(format!(
                    "The provided value for the template parameter '{name}' is not valid. The length of the value ({len}) must be less than or equal to '{max}'."
                ));
            }
        }
        Ok(())
    }
}

/// The value as an error message may show it: secure values are never printed.
fn shown(def: &ParameterDef, v: &Value) -> String {
    if def.is_secure() {
        "********".into()
    } else {
        v.to_string()
    }
}

/// Follows `$ref: '#/definitions/x'` (languageVersion 2.0 user types), merging the referencing
/// object's own keys over the definition's.
fn resolve_ref(o: &Object, defs: Option<&Object>, depth: usize) -> Result<Object, String> {
    let Some(Value::String(r)) = get_ci(o, "$ref") else {
        return Ok(o.clone());
    };
    if depth > 32 {
        return Err(format!("The type reference '{r}' is circular."));
    }
    let Some(name) = r.strip_prefix("#/definitions/") else {
        // External references (imported types) cannot be followed offline; the value is then
        // checked only against what the parameter itself declares.
        return Ok(o.clone());
    };
    let def = defs
        .and_then(|d| get_ci(d, name))
        .and_then(Value::as_object)
        .ok_or_else(|| format!("The type definition '{r}' is not defined in the template."))?;
    let mut base = resolve_ref(def, defs, depth + 1)?;
    for (k, v) in o {
        if !k.eq_ignore_ascii_case("$ref") {
            base.insert(k.clone(), v.clone());
        }
    }
    Ok(base)
}

/// True for `/subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{name}`.
fn is_vault_id(id: &str) -> bool {
    let segs: Vec<&str> = id.trim_start_matches('/').split('/').collect();
    segs.len() == 8
        && segs[0].eq_ignore_ascii_case("subscriptions")
        && segs[2].eq_ignore_ascii_case("resourceGroups")
        && segs[4].eq_ignore_ascii_case("providers")
        && segs[5].eq_ignore_ascii_case("Microsoft.KeyVault")
        && segs[6].eq_ignore_ascii_case("vaults")
        && segs.iter().all(|s| !s.is_empty())
}

/// Key Vault secret names: 1 to 127 characters, letters, digits and dashes.
fn is_secret_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// A value supplied for a parameter.
#[derive(Clone, Debug)]
pub enum ParameterValue {
    /// A plain value.
    Value(Value),
    /// A Key Vault secret reference, resolved by Azure at deployment time.
    KeyVaultReference {
        /// The vault's resource ID.
        vault_id: String,
        /// Secret name.
        secret_name: String,
        /// Secret version, if pinned.
        secret_version: Option<String>,
    },
}

impl ParameterValue {
    /// The value the template sees: Key Vault references are deferred.
    pub fn to_value(&self) -> Value {
        match self {
            ParameterValue::Value(v) => v.clone(),
            ParameterValue::KeyVaultReference {
                vault_id,
                secret_name,
                ..
            } => Value::Deferred(Deferred {
                expr: format!("keyVaultSecret('{vault_id}', '{secret_name}')"),
            }),
        }
    }
}

/// Parameter values for a deployment, as a parameter file or an API request carries them.
#[derive(Clone, Debug, Default)]
pub struct Parameters {
    /// Values by name, in file order.
    pub values: IndexMap<String, ParameterValue>,
}

impl Parameters {
    /// No values.
    pub fn new() -> Self {
        Parameters::default()
    }

    /// Parses a parameter file (`$schema`, `contentVersion`, `parameters.X.value` or
    /// `parameters.X.reference`), or a bare `{"X": {"value": ...}}` object as the deployments
    /// API takes it.
    pub fn parse(text: &str) -> Result<Parameters, TemplateError> {
        let doc = json::parse(text).map_err(|e| {
            let mut err = TemplateError::new(
                ErrorCode::InvalidJson,
                format!("The parameters file is not valid JSON: {}", e.message),
            );
            err.pos = Some(e.pos);
            err
        })?;
        Parameters::from_document(&doc.value, Some(&doc.spans))
    }

    /// Reads parameters from a parsed value.
    pub fn from_document(v: &Value, spans: Option<&Spans>) -> Result<Parameters, TemplateError> {
        let locate = |e: TemplateError| e.located(spans);
        let Value::Object(root) = v else {
            return Err(TemplateError::new(
                ErrorCode::InvalidTemplate,
                "The parameters file must contain a JSON object.",
            ));
        };
        let is_file = get_ci(root, "$schema").is_some() || get_ci(root, "contentVersion").is_some();
        if let Some(cv) = get_ci(root, "contentVersion")
            && !matches!(cv, Value::String(_))
        {
            return Err(locate(
                    TemplateError::new(ErrorCode::InvalidTemplate, "The 'contentVersion' of the parameters file must be a string such as \"1.0.0.0\".")
                        .at_path("contentVersion"),
                ));
        }
        let (params, prefix) = if is_file {
            match get_ci(root, "parameters") {
                Some(Value::Object(p)) => (p, "parameters."),
                None => {
                    return Err(TemplateError::new(
                        ErrorCode::InvalidTemplate,
                        "The parameters file has no 'parameters' property.",
                    ));
                }
                Some(_) => {
                    return Err(locate(
                        TemplateError::new(
                            ErrorCode::InvalidTemplate,
                            "The 'parameters' property of the parameters file must be an object.",
                        )
                        .at_path("parameters"),
                    ));
                }
            }
        } else if let Some(Value::Object(p)) =
            get_ci(root, "parameters").filter(|_| root.len() == 1)
        {
            (p, "parameters.")
        } else {
            (root, "")
        };
        let mut out = Parameters::new();
        let entry_form = |e: &Value| matches!(e, Value::Object(o) if get_ci(o, "value").is_some() || get_ci(o, "reference").is_some());
        if !is_file && !params.is_empty() && !params.values().all(entry_form) {
            // A bare `{"name": value}` object: the key/value form tools accept for inputs.
            for (name, v) in params {
                out.values
                    .insert(name.clone(), ParameterValue::Value(v.clone()));
            }
            return Ok(out);
        }
        for (name, entry) in params {
            let path = format!("{prefix}{name}");
            let Value::Object(e) = entry else {
                return Err(locate(
                    TemplateError::new(
                        ErrorCode::InvalidParameter,
                        format!("The value of the parameter '{name}' must be an object with a 'value' or a 'reference' property."),
                    )
                    .at_path(path),
                ));
            };
            let pv = if let Some(v) = get_ci(e, "value") {
                ParameterValue::Value(v.clone())
            } else if let Some(Value::Object(r)) = get_ci(e, "reference") {
                let vault_id = get_ci(r, "keyVault")
                    .and_then(|k| k.get("id"))
                    .and_then(Value::as_str);
                let secret = get_ci(r, "secretName").and_then(Value::as_str);
                match (vault_id, secret) {
                    (Some(vault_id), Some(_)) if !is_vault_id(vault_id) => {
                        return Err(locate(
                            TemplateError::new(
                                ErrorCode::InvalidParameter,
                                format!("The Key Vault reference of the parameter '{name}' has the vault ID '{vault_id}', which is not a Key Vault resource ID (/subscriptions/{{id}}/resourceGroups/{{group}}/providers/Microsoft.KeyVault/vaults/{{name}})."),
                            )
                            .at_path(format!("{path}.reference.keyVault.id")),
                        ));
                    }
                    (Some(_), Some(secret_name)) if !is_secret_name(secret_name) => {
                        return Err(locate(
                            TemplateError::new(
                                ErrorCode::InvalidParameter,
                                format!("The Key Vault reference of the parameter '{name}' names the secret '{secret_name}', but secret names are 1 to 127 letters, digits and dashes."),
                            )
                            .at_path(format!("{path}.reference.secretName")),
                        ));
                    }
                    (Some(vault_id), Some(secret_name)) => ParameterValue::KeyVaultReference {
                        vault_id: vault_id.to_owned(),
                        secret_name: secret_name.to_owned(),
                        secret_version: get_ci(r, "secretVersion")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    },
                    _ => {
                        return Err(locate(
                            TemplateError::new(
                                ErrorCode::InvalidParameter,
                                format!("The Key Vault reference of the parameter '{name}' needs 'keyVault.id' and 'secretName'."),
                            )
                            .at_path(format!("{path}.reference")),
                        ));
                    }
                }
            } else {
                return Err(locate(
                    TemplateError::new(
                        ErrorCode::InvalidParameter,
                        format!("The parameter '{name}' has neither a 'value' nor a 'reference' property."),
                    )
                    .at_path(path),
                ));
            };
            out.values.insert(name.clone(), pv);
        }
        Ok(out)
    }

    /// Sets a plain value.
    pub fn set(&mut self, name: impl Into<String>, value: Value) -> &mut Self {
        self.values
            .insert(name.into(), ParameterValue::Value(value));
        self
    }

    /// The supplied value for a name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&ParameterValue> {
        self.values.get(name).or_else(|| {
            self.values
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }
}

impl ParameterDef {
    /// A value that satisfies this declaration's rules, for parameters the caller has no value
    /// for (offline previews, tests and benchmarks): the first allowed value, else the smallest
    /// value the type and bounds accept.
    pub fn sample_value(&self) -> Value {
        if let Some(first) = self.allowed.as_ref().and_then(|a| a.first()) {
            return match self.ty.as_deref() {
                Some("array") if !matches!(first, Value::Array(_)) => {
                    Value::Array(vec![first.clone()])
                }
                _ => first.clone(),
            };
        }
        let min_len = self.min_length.unwrap_or(0).clamp(0, 4096) as usize;
        match self.ty.as_deref() {
            Some("int") => {
                let v = self
                    .min_value
                    .unwrap_or(1)
                    .max(self.min_value.unwrap_or(i64::MIN));
                Value::Int(self.max_value.map_or(v, |m| v.min(m)))
            }
            Some("bool") => Value::Bool(true),
            Some("object" | "secureobject") => Value::Object(Object::new()),
            Some("array") => Value::Array(vec![Value::str("item"); min_len]),
            _ => {
                let base = format!("{}sample", self.name.to_ascii_lowercase());
                let mut s: String = base.chars().filter(char::is_ascii_alphanumeric).collect();
                while s.chars().count() < min_len {
                    s.push('x');
                }
                if let Some(max) = self.max_length {
                    s = s.chars().take(max.max(0) as usize).collect();
                }
                Value::String(s)
            }
        }
    }
}

impl Parameters {
    /// Values for every declared parameter without a default that `self` does not supply,
    /// from [`ParameterDef::sample_value`]; supplied values are kept.
    pub fn with_samples_for(mut self, declared: &IndexMap<String, ParameterDef>) -> Parameters {
        for (name, def) in declared {
            if def.default.is_none() && !def.nullable && self.get(name).is_none() {
                self.values
                    .insert(name.clone(), ParameterValue::Value(def.sample_value()));
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_file_with_key_vault_reference() {
        let p = Parameters::parse(
            r#"{"$schema": "x", "contentVersion": "1.0.0.0", "parameters": {
                "a": {"value": 1},
                "pw": {"reference": {"keyVault": {"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/vaults/v"}, "secretName": "pw"}}
            }}"#,
        )
        .unwrap();
        assert!(matches!(
            p.get("A"),
            Some(ParameterValue::Value(Value::Int(1)))
        ));
        assert!(matches!(
            p.get("pw").unwrap().to_value(),
            Value::Deferred(_)
        ));
    }

    #[test]
    fn entry_without_value_names_the_parameter() {
        let e =
            Parameters::parse(r#"{"contentVersion": "1.0.0.0", "parameters": {"x": {"val": 1}}}"#)
                .unwrap_err();
        assert!(e.message.contains("'x'"), "{e}");
        assert_eq!(e.path.as_deref(), Some("parameters.x"));
        assert!(e.pos.is_some());
    }

    fn def(json: &str) -> ParameterDef {
        ParameterDef::parse("p", &json::parse_value(json).unwrap(), None, "parameters.p").unwrap()
    }

    #[test]
    fn validation_rules() {
        assert!(
            def(r#"{"type": "int", "minValue": 1}"#)
                .validate(&Value::Int(0))
                .is_err()
        );
        assert!(
            def(r#"{"type": "int", "maxValue": 3}"#)
                .validate(&Value::Int(3))
                .is_ok()
        );
        assert!(
            def(r#"{"type": "string", "maxLength": 3}"#)
                .validate(&Value::str("abcd"))
                .is_err()
        );
        assert!(
            def(r#"{"type": "string", "allowedValues": ["a"]}"#)
                .validate(&Value::str("b"))
                .is_err()
        );
        assert!(
            def(r#"{"type": "array", "allowedValues": ["a", "b"]}"#)
                .validate(&Value::Array(vec![Value::str("a"), Value::str("b")]))
                .is_ok()
        );
        assert!(
            def(r#"{"type": "bool"}"#)
                .validate(&Value::str("true"))
                .is_err()
        );
    }

    #[test]
    fn secure_values_are_not_echoed_in_errors() {
        let e = def(r#"{"type": "securestring", "allowedValues": ["a"]}"#)
            .validate(&Value::str("hunter2"))
            .unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
