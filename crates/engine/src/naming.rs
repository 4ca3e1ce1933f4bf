//! Azure's naming rules, checked locally before anything reaches Azure: the rule a derived
//! resource name must satisfy ([`NamingRule`]) and the character sets an input may declare
//! ([`Charset`]).
//!
//! The rules follow "Naming rules and restrictions for Azure resources"
//! (<https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules>)
//! and, for names behind a public endpoint, "Resolve errors for reserved resource names"
//! (<https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-reserved-resource-name>).
//! Global uniqueness cannot be checked offline: [`NamingRule::globally_unique`] tells preflight
//! which names to ask Azure about.

use serde::{Deserialize, Serialize};

/// A naming rule of one Azure resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NamingRule {
    /// `Microsoft.Storage/storageAccounts`.
    StorageAccount,
    /// `Microsoft.KeyVault/vaults`.
    KeyVault,
    /// `Microsoft.DBforMySQL/flexibleServers`.
    MySqlServer,
    /// `Microsoft.ContainerRegistry/registries`.
    ContainerRegistry,
    /// `Microsoft.ContainerService/managedClusters`.
    AksCluster,
    /// The `dnsPrefix` of a managed cluster (the first label of its API server FQDN).
    AksDnsPrefix,
    /// `Microsoft.Resources/resourceGroups`.
    ResourceGroup,
    /// `Microsoft.OperationalInsights/workspaces`.
    LogAnalyticsWorkspace,
    /// `Microsoft.Network/virtualNetworks`.
    VirtualNetwork,
    /// A public IP's `dnsSettings.domainNameLabel`.
    DnsLabel,
}

/// Which characters a position may hold, with the words that say so.
#[derive(Clone, Copy)]
struct Class {
    allows: fn(char) -> bool,
    words: &'static str,
}

const LOWER_DIGIT: Class = Class {
    allows: |c| c.is_ascii_lowercase() || c.is_ascii_digit(),
    words: "lowercase letters and digits",
};
const LOWER_DIGIT_HYPHEN: Class = Class {
    allows: |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
    words: "lowercase letters, digits and hyphens",
};
const ALNUM: Class = Class {
    allows: |c| c.is_ascii_alphanumeric(),
    words: "letters and digits",
};
const ALNUM_HYPHEN: Class = Class {
    allows: |c| c.is_ascii_alphanumeric() || c == '-',
    words: "letters, digits and hyphens",
};
const ALNUM_HYPHEN_UNDERSCORE: Class = Class {
    allows: |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
    words: "letters, digits, hyphens and underscores",
};
const ALNUM_HYPHEN_UNDERSCORE_PERIOD: Class = Class {
    allows: |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'),
    words: "letters, digits, hyphens, underscores and periods",
};
// Resource groups take any Unicode letter or digit (.NET's Char.IsLetterOrDigit).
const RESOURCE_GROUP: Class = Class {
    allows: |c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'),
    words: "letters, digits, underscores, hyphens, periods and parentheses",
};
const LETTER: Class = Class {
    allows: |c| c.is_ascii_alphabetic(),
    words: "a letter",
};
const LOWER_LETTER: Class = Class {
    allows: |c| c.is_ascii_lowercase(),
    words: "a lowercase letter",
};
const LETTER_OR_DIGIT: Class = Class {
    allows: |c| c.is_ascii_alphanumeric(),
    words: "a letter or digit",
};
const LOWER_OR_DIGIT: Class = Class {
    allows: |c| c.is_ascii_lowercase() || c.is_ascii_digit(),
    words: "a lowercase letter or digit",
};
const LETTER_DIGIT_UNDERSCORE: Class = Class {
    allows: |c| c.is_ascii_alphanumeric() || c == '_',
    words: "a letter, digit or underscore",
};
const NOT_HYPHEN: Class = Class {
    allows: |c| c != '-',
    words: "a letter or digit",
};
const NOT_PERIOD: Class = Class {
    allows: |c| c != '.',
    words: "something other than a period",
};

/// One rule as the naming-rules page states it.
struct Spec {
    label: &'static str,
    min: usize,
    max: usize,
    chars: Class,
    first: Option<Class>,
    last: Option<Class>,
    no_double_hyphen: bool,
    global: bool,
    /// Behind a public endpoint (an FQDN), so Azure refuses reserved words and trademarks.
    public_endpoint: bool,
}

/// Names Azure refuses outright for resources with a public endpoint (compared ignoring case).
const RESERVED_WHOLE: &[&str] = &[
    "ACCESS",
    "APP_CODE",
    "APP_THEMES",
    "APP_DATA",
    "APP_GLOBALRESOURCES",
    "APP_LOCALRESOURCES",
    "APP_WEBREFERENCES",
    "APP_BROWSERS",
    "AZURE",
    "BING",
    "BIZSPARK",
    "BIZTALK",
    "CORTANA",
    "DIRECTX",
    "DOTNET",
    "DYNAMICS",
    "EXCEL",
    "EXCHANGE",
    "FOREFRONT",
    "GROOVE",
    "HOLOLENS",
    "HYPERV",
    "KINECT",
    "LYNC",
    "MSDN",
    "O365",
    "OFFICE",
    "OFFICE365",
    "ONEDRIVE",
    "ONENOTE",
    "OUTLOOK",
    "POWERPOINT",
    "SHAREPOINT",
    "SKYPE",
    "VISIO",
    "VISUALSTUDIO",
    "WEB.CONFIG",
    "XBOX",
];
/// Words refused anywhere in such a name.
const RESERVED_ANYWHERE: &[&str] = &["MICROSOFT", "WINDOWS"];
/// Words refused at the start of such a name.
const RESERVED_START: &[&str] = &["LOGIN"];

impl NamingRule {
    /// Every rule, in the order of the manifest documentation.
    pub const ALL: [NamingRule; 10] = [
        NamingRule::StorageAccount,
        NamingRule::KeyVault,
        NamingRule::MySqlServer,
        NamingRule::ContainerRegistry,
        NamingRule::AksCluster,
        NamingRule::AksDnsPrefix,
        NamingRule::ResourceGroup,
        NamingRule::LogAnalyticsWorkspace,
        NamingRule::VirtualNetwork,
        NamingRule::DnsLabel,
    ];

    /// Reads a rule name as the manifest writes it (`storageAccount`, `keyVault`...).
    pub fn parse(s: &str) -> Option<NamingRule> {
        NamingRule::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The rule's name as the manifest writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            NamingRule::StorageAccount => "storageAccount",
            NamingRule::KeyVault => "keyVault",
            NamingRule::MySqlServer => "mySqlServer",
            NamingRule::ContainerRegistry => "containerRegistry",
            NamingRule::AksCluster => "aksCluster",
            NamingRule::AksDnsPrefix => "aksDnsPrefix",
            NamingRule::ResourceGroup => "resourceGroup",
            NamingRule::LogAnalyticsWorkspace => "logAnalyticsWorkspace",
            NamingRule::VirtualNetwork => "virtualNetwork",
            NamingRule::DnsLabel => "dnsLabel",
        }
    }

    /// What the name is, in words (`storage account`).
    pub fn label(self) -> &'static str {
        self.spec().label
    }

    /// True when the name must be unique across Azure (it becomes a DNS name), so preflight
    /// asks Azure whether it is free.
    pub fn globally_unique(self) -> bool {
        self.spec().global
    }

    /// Shortest and longest allowed name, in characters.
    pub fn length(self) -> (usize, usize) {
        let s = self.spec();
        (s.min, s.max)
    }

    fn spec(self) -> Spec {
        let base = Spec {
            label: "",
            min: 1,
            max: 63,
            chars: ALNUM,
            first: None,
            last: None,
            no_double_hyphen: false,
            global: false,
            public_endpoint: false,
        };
        match self {
            NamingRule::StorageAccount => Spec {
                label: "storage account",
                min: 3,
                max: 24,
                chars: LOWER_DIGIT,
                global: true,
                public_endpoint: true,
                ..base
            },
            NamingRule::KeyVault => Spec {
                label: "key vault",
                min: 3,
                max: 24,
                chars: ALNUM_HYPHEN,
                first: Some(LETTER),
                last: Some(LETTER_OR_DIGIT),
                no_double_hyphen: true,
                global: true,
                public_endpoint: true,
            },
            NamingRule::MySqlServer => Spec {
                label: "MySQL server",
                min: 3,
                max: 63,
                chars: LOWER_DIGIT_HYPHEN,
                first: Some(NOT_HYPHEN),
                last: Some(NOT_HYPHEN),
                global: true,
                public_endpoint: true,
                ..base
            },
            NamingRule::ContainerRegistry => Spec {
                label: "container registry",
                min: 5,
                max: 50,
                chars: ALNUM,
                global: true,
                public_endpoint: true,
                ..base
            },
            NamingRule::AksCluster => Spec {
                label: "Kubernetes cluster",
                min: 1,
                max: 63,
                chars: ALNUM_HYPHEN_UNDERSCORE,
                first: Some(LETTER_OR_DIGIT),
                last: Some(LETTER_OR_DIGIT),
                ..base
            },
            // Not on the naming-rules page; the AKS resource provider's own validation:
            // 1 to 54 characters, letters, digits and hyphens, alphanumeric at both ends.
            NamingRule::AksDnsPrefix => Spec {
                label: "Kubernetes DNS prefix",
                min: 1,
                max: 54,
                chars: ALNUM_HYPHEN,
                first: Some(LETTER_OR_DIGIT),
                last: Some(LETTER_OR_DIGIT),
                public_endpoint: true,
                ..base
            },
            NamingRule::ResourceGroup => Spec {
                label: "resource group",
                min: 1,
                max: 90,
                chars: RESOURCE_GROUP,
                last: Some(NOT_PERIOD),
                ..base
            },
            NamingRule::LogAnalyticsWorkspace => Spec {
                label: "Log Analytics workspace",
                min: 4,
                max: 63,
                chars: ALNUM_HYPHEN,
                first: Some(LETTER_OR_DIGIT),
                last: Some(LETTER_OR_DIGIT),
                ..base
            },
            NamingRule::VirtualNetwork => Spec {
                label: "virtual network",
                min: 2,
                max: 64,
                chars: ALNUM_HYPHEN_UNDERSCORE_PERIOD,
                first: Some(LETTER_OR_DIGIT),
                last: Some(LETTER_DIGIT_UNDERSCORE),
                ..base
            },
            // Azure's InvalidDomainNameLabel rule: ^[a-z][a-z0-9-]{1,61}[a-z0-9]$.
            NamingRule::DnsLabel => Spec {
                label: "DNS label",
                min: 3,
                max: 63,
                chars: LOWER_DIGIT_HYPHEN,
                first: Some(LOWER_LETTER),
                last: Some(LOWER_OR_DIGIT),
                public_endpoint: true,
                ..base
            },
        }
    }

    /// Checks a name. The error is a phrase to follow "the storage account name 'x' ...": the
    /// rule in words and the offending character or length.
    pub fn check(self, name: &str) -> Result<(), String> {
        let s = self.spec();
        let len = name.chars().count();
        if len < s.min || len > s.max {
            return Err(format!(
                "must be {} to {} characters long (it has {len})",
                s.min, s.max
            ));
        }
        if let Some(bad) = name.chars().find(|&c| !(s.chars.allows)(c)) {
            return Err(format!(
                "may contain only {}; {} is not allowed",
                s.chars.words,
                show_char(bad)
            ));
        }
        if let (Some(first), Some(c)) = (s.first, name.chars().next())
            && !(first.allows)(c)
        {
            return Err(format!(
                "must start with {} ({} is not)",
                first.words,
                show_char(c)
            ));
        }
        if let (Some(last), Some(c)) = (s.last, name.chars().last())
            && !(last.allows)(c)
        {
            return Err(format!(
                "must end with {} ({} is not)",
                last.words,
                show_char(c)
            ));
        }
        if s.no_double_hyphen && name.contains("--") {
            return Err("may not contain two hyphens in a row".into());
        }
        if s.public_endpoint {
            check_reserved(name)?;
        }
        Ok(())
    }
}

fn check_reserved(name: &str) -> Result<(), String> {
    let upper = name.to_ascii_uppercase();
    if let Some(w) = RESERVED_WHOLE.iter().find(|w| **w == upper) {
        return Err(format!("may not be the reserved word '{w}'"));
    }
    if let Some(w) = RESERVED_ANYWHERE.iter().find(|w| upper.contains(**w)) {
        return Err(format!("may not contain the reserved word '{w}'"));
    }
    if let Some(w) = RESERVED_START.iter().find(|w| upper.starts_with(**w)) {
        return Err(format!("may not start with the reserved word '{w}'"));
    }
    Ok(())
}

/// A character as an error message shows it: quoted, and named when it would be invisible.
fn show_char(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '\t' => "a tab".into(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("'{c}'"),
    }
}

/// The characters a string input may contain (the manifest's `charset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Charset {
    /// a-z and 0-9.
    LowerAlnum,
    /// a-z, 0-9 and '-'.
    LowerAlnumHyphen,
    /// a-z, A-Z and 0-9.
    Alnum,
    /// a-z, A-Z, 0-9 and '-'.
    AlnumHyphen,
    /// a-z, A-Z, 0-9, '-' and '_'.
    AlnumHyphenUnderscore,
}

impl Charset {
    /// Every character set.
    pub const ALL: [Charset; 5] = [
        Charset::LowerAlnum,
        Charset::LowerAlnumHyphen,
        Charset::Alnum,
        Charset::AlnumHyphen,
        Charset::AlnumHyphenUnderscore,
    ];

    /// Reads a set's name as the manifest writes it (`lowerAlnumHyphen`).
    pub fn parse(s: &str) -> Option<Charset> {
        Charset::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The set's name as the manifest writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Charset::LowerAlnum => "lowerAlnum",
            Charset::LowerAlnumHyphen => "lowerAlnumHyphen",
            Charset::Alnum => "alnum",
            Charset::AlnumHyphen => "alnumHyphen",
            Charset::AlnumHyphenUnderscore => "alnumHyphenUnderscore",
        }
    }

    fn class(self) -> Class {
        match self {
            Charset::LowerAlnum => LOWER_DIGIT,
            Charset::LowerAlnumHyphen => LOWER_DIGIT_HYPHEN,
            Charset::Alnum => ALNUM,
            Charset::AlnumHyphen => ALNUM_HYPHEN,
            Charset::AlnumHyphenUnderscore => ALNUM_HYPHEN_UNDERSCORE,
        }
    }

    /// The set in words (`lowercase letters, digits and hyphens`).
    pub fn describe(self) -> &'static str {
        self.class().words
    }

    /// True when `c` belongs to the set.
    pub fn allows(self, c: char) -> bool {
        (self.class().allows)(c)
    }

    /// Checks every character; the error names the set and the first character outside it.
    pub fn check(self, value: &str) -> Result<(), String> {
        match value.chars().find(|&c| !self.allows(c)) {
            None => Ok(()),
            Some(c) => Err(format!(
                "may contain only {}; {} is not allowed",
                self.describe(),
                show_char(c)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_round_trip_through_parse_and_serde() {
        for r in NamingRule::ALL {
            assert_eq!(NamingRule::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::json!(r.as_str())
            );
        }
        for c in Charset::ALL {
            assert_eq!(Charset::parse(c.as_str()), Some(c));
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
        }
        assert_eq!(NamingRule::parse("StorageAccount"), None);
        assert_eq!(Charset::parse("lower"), None);
    }

    #[test]
    fn invisible_characters_are_named() {
        let e = NamingRule::StorageAccount.check("ab c").unwrap_err();
        assert!(e.contains("a space"), "{e}");
        let e = Charset::Alnum.check("a\u{7}").unwrap_err();
        assert!(e.contains("U+0007"), "{e}");
    }
}
