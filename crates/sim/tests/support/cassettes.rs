//! The recorded HTTP sessions under `recordings/`, in one form whatever recorded them: the
//! Java SDK's JSON records, go-vcr v2 cassettes (azd) and vcrpy cassettes (azure-cli).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value as Json;
use time::OffsetDateTime;

/// One recorded request and its response.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// Position in its recording (0-based).
    pub index: usize,
    /// HTTP method, upper case.
    pub method: String,
    /// Host as recorded (`localhost:1234`, `management.azure.com:443`).
    pub host: String,
    /// Path as recorded (escapes kept).
    pub path: String,
    /// Query as recorded, without `?` (escapes kept).
    pub query: String,
    /// The request body, when the recorder kept it (go-vcr, vcrpy; the Java records do not).
    pub request_body: Option<String>,
    /// Response status.
    pub status: u16,
    /// Response headers, names lower-cased (first value of each).
    pub headers: BTreeMap<String, String>,
    /// Response body text.
    pub body: String,
    /// When the response was sent (`Date` header).
    pub date: Option<OffsetDateTime>,
}

impl Exchange {
    /// The response body as JSON (`Null` when empty or not JSON).
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or(Json::Null)
    }

    /// A response header (lower-case name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// True for Azure Resource Manager requests (as opposed to other hosts in a cassette).
    pub fn is_arm(&self) -> bool {
        let h = self.host.to_ascii_lowercase();
        h.starts_with("localhost") || h.starts_with("management.azure.com")
    }
}

/// Loads a recording by its extension and layout.
pub fn load(path: &Path) -> Vec<Exchange> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let name = path.display().to_string();
    if name.ends_with(".json") {
        java(&text)
    } else {
        let docs: Vec<Json> = serde_saphyr::from_multiple(&text)
            .unwrap_or_else(|e| panic!("{name} is not YAML: {e}"));
        let first = docs
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{name} is empty"));
        if first.get("version").and_then(Json::as_u64) == Some(2) {
            go_vcr(first)
        } else {
            vcrpy(first)
        }
    }
}

fn split_url(url: &str) -> (String, String, String) {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let (host, path_query) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    (host.to_owned(), path.to_owned(), query.to_owned())
}

/// `Fri, 17 Jul 2020 05:45:50 GMT`.
pub fn http_date(s: &str) -> Option<OffsetDateTime> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, hms, _] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(month))? as u8 + 1;
    let mut t = hms.split(':').map(|x| x.parse::<u8>().ok());
    let (h, mi, se) = (t.next()??, t.next()??, t.next()??);
    let date = time::Date::from_calendar_date(
        year.parse().ok()?,
        time::Month::try_from(m).ok()?,
        day.parse().ok()?,
    )
    .ok()?;
    Some(date.with_hms(h, mi, se).ok()?.assume_utc())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JavaFile {
    network_call_records: Vec<JavaRecord>,
}

#[derive(Deserialize)]
struct JavaRecord {
    #[serde(rename = "Method")]
    method: String,
    #[serde(rename = "Uri")]
    uri: String,
    #[serde(rename = "Response")]
    response: BTreeMap<String, String>,
}

fn java(text: &str) -> Vec<Exchange> {
    let file: JavaFile = serde_json::from_str(text).unwrap();
    file.network_call_records
        .into_iter()
        .enumerate()
        .map(|(index, r)| {
            let (host, path, query) = split_url(&r.uri);
            let mut headers = BTreeMap::new();
            let mut status = 0;
            let mut body = String::new();
            for (k, v) in r.response {
                match k.as_str() {
                    "StatusCode" => status = v.parse().unwrap_or(0),
                    "Body" => body = v,
                    _ => {
                        headers.insert(k.to_ascii_lowercase(), v);
                    }
                }
            }
            let date = headers.get("date").and_then(|d| http_date(d));
            Exchange {
                index,
                method: r.method.to_ascii_uppercase(),
                host,
                path,
                query,
                request_body: None,
                status,
                headers,
                body,
                date,
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct GoCassette {
    interactions: Vec<GoInteraction>,
}

#[derive(Deserialize)]
struct GoInteraction {
    request: GoRequest,
    response: GoResponse,
}

#[derive(Deserialize)]
struct GoRequest {
    #[serde(default)]
    body: String,
    url: String,
    method: String,
}

#[derive(Deserialize)]
struct GoResponse {
    #[serde(default)]
    body: String,
    #[serde(default)]
    headers: BTreeMap<String, Vec<String>>,
    code: u16,
}

fn first_values(h: BTreeMap<String, Vec<String>>) -> BTreeMap<String, String> {
    h.into_iter()
        .filter_map(|(k, v)| Some((k.to_ascii_lowercase(), v.into_iter().next()?)))
        .collect()
}

fn go_vcr(doc: Json) -> Vec<Exchange> {
    let c: GoCassette = serde_json::from_value(doc).unwrap();
    c.interactions
        .into_iter()
        .enumerate()
        .map(|(index, i)| {
            let (host, path, query) = split_url(&i.request.url);
            let headers = first_values(i.response.headers);
            let date = headers.get("date").and_then(|d| http_date(d));
            Exchange {
                index,
                method: i.request.method.to_ascii_uppercase(),
                host,
                path,
                query,
                request_body: Some(i.request.body).filter(|b| !b.is_empty()),
                status: i.response.code,
                headers,
                body: i.response.body,
                date,
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct VcrCassette {
    interactions: Vec<VcrInteraction>,
}

#[derive(Deserialize)]
struct VcrInteraction {
    request: VcrRequest,
    response: VcrResponse,
}

#[derive(Deserialize)]
struct VcrRequest {
    #[serde(default)]
    body: Option<String>,
    uri: String,
    method: String,
}

#[derive(Deserialize)]
struct VcrResponse {
    body: VcrBody,
    #[serde(default)]
    headers: BTreeMap<String, Vec<String>>,
    status: VcrStatus,
}

#[derive(Deserialize)]
struct VcrBody {
    #[serde(default)]
    string: String,
}

#[derive(Deserialize)]
struct VcrStatus {
    code: u16,
}

fn vcrpy(doc: Json) -> Vec<Exchange> {
    let c: VcrCassette = serde_json::from_value(doc).unwrap();
    c.interactions
        .into_iter()
        .enumerate()
        .map(|(index, i)| {
            let (host, path, query) = split_url(&i.request.uri);
            let headers = first_values(i.response.headers);
            let date = headers.get("date").and_then(|d| http_date(d));
            Exchange {
                index,
                method: i.request.method.to_ascii_uppercase(),
                host,
                path,
                query,
                request_body: i.request.body.filter(|b| !b.is_empty()),
                status: i.response.status.code,
                headers,
                body: i.response.body.string,
                date,
            }
        })
        .collect()
}
