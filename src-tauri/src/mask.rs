//! Demo mode shows subscription and tenant IDs as a screen share would: only their last four
//! characters. Everything the UI receives in a demo passes through [`Mask::hide`]; IDs the UI
//! sends back are mapped to the real ones with [`Mask::reveal`].

use serde_json::Value as Json;

/// Masks a set of IDs.
#[derive(Clone, Debug)]
pub struct Mask {
    /// (the real ID, in lower case, as shown)
    pairs: Vec<(String, String, String)>,
}

/// `••••••••-••••-••••-••••-••••••••1a2b` for a GUID: dashes kept, all but the last four
/// characters replaced.
pub fn masked(id: &str) -> String {
    let keep = id.chars().count().saturating_sub(4);
    id.chars()
        .enumerate()
        .map(|(i, c)| if i < keep && c != '-' { '•' } else { c })
        .collect()
}

impl Mask {
    /// Masks these IDs (empty ones are ignored).
    pub fn new<'a>(ids: impl IntoIterator<Item = &'a str>) -> Mask {
        Mask {
            pairs: ids
                .into_iter()
                .filter(|id| !id.is_empty())
                .map(|id| (id.to_owned(), id.to_ascii_lowercase(), masked(id)))
                .collect(),
        }
    }

    /// `text` with every masked ID replaced (IDs are matched in any case).
    pub fn hide_str(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (_, real, shown) in &self.pairs {
            // ARM echoes IDs in the case they were sent, and in lower case in resource IDs.
            let lower = out.to_ascii_lowercase();
            if !lower.contains(real.as_str()) {
                continue;
            }
            let mut result = String::with_capacity(out.len());
            let mut rest = 0;
            for (at, _) in lower.match_indices(real.as_str()) {
                result.push_str(&out[rest..at]);
                result.push_str(shown);
                rest = at + real.len();
            }
            result.push_str(&out[rest..]);
            out = result;
        }
        out
    }

    /// `value` with every masked ID replaced in every string (keys included).
    pub fn hide(&self, value: Json) -> Json {
        match value {
            Json::String(s) => Json::String(self.hide_str(&s)),
            Json::Array(items) => Json::Array(items.into_iter().map(|v| self.hide(v)).collect()),
            Json::Object(map) => Json::Object(
                map.into_iter()
                    .map(|(k, v)| (self.hide_str(&k), self.hide(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// The real ID behind a masked one (anything else is answered as given).
    pub fn reveal(&self, shown: &str) -> String {
        self.pairs
            .iter()
            .find(|(_, _, s)| s == shown)
            .map(|(real, _, _)| real.clone())
            .unwrap_or_else(|| shown.to_owned())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    const SUB: &str = "0B1F6471-1BF0-4DDA-AEC3-CB9272F09590";

    #[test]
    fn ids_keep_their_shape_and_last_four_characters() {
        assert_eq!(masked(SUB), "••••••••-••••-••••-••••-••••••••9590");
        assert_eq!(masked("abc"), "abc");
    }

    #[test]
    fn every_string_in_any_case_is_masked_and_maps_back() {
        let mask = Mask::new([SUB, ""]);
        let shown = masked(SUB);
        let v = mask.hide(json!({
            "resourceId": format!("/subscriptions/{}/resourceGroups/rg", SUB.to_lowercase()),
            "list": [SUB, 3, null],
            SUB: "key",
        }));
        let text = v.to_string();
        assert!(!text.to_lowercase().contains(&SUB.to_lowercase()), "{text}");
        assert_eq!(
            v["resourceId"],
            json!(format!("/subscriptions/{shown}/resourceGroups/rg"))
        );
        assert_eq!(v["list"][0], json!(shown));
        assert_eq!(v["list"][1], json!(3));
        assert_eq!(mask.reveal(&shown), SUB);
        assert_eq!(mask.reveal("other"), "other");
    }
}
