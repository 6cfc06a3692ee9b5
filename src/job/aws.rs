//! AWS identifier syntax the job rules need: ARNs, S3 URIs, KMS key references, and Ground
//! Truth's service accounts per Region (spec §8.2, §8.4–§8.6). Pure string work: no I/O, no
//! regex engine (the service-model patterns are small enough to check by hand).
//!
//! Must not depend on anything above `job` (no `store`, `render`, `ui`, `app`, `cli`).

/// The account that owns Ground Truth's built-in worker UIs (`human-task-ui/…`) and the
/// Mechanical Turk public work team, in every Region (spec §8.4, §8.5).
pub const GROUND_TRUTH_UI_ACCOUNT: &str = "394669845002";

/// The account that owns the automated-labeling algorithm specifications (spec §8.2).
pub const ACTIVE_LEARNING_ACCOUNT: &str = "027400017018";

/// The resource of the Mechanical Turk public work team ARN (spec §8.4).
pub const PUBLIC_CROWD_RESOURCE: &str = "workteam/public-crowd/default";

/// The account that owns the built-in `PRE-*` and `ACS-*` Lambda functions in `region`
/// (spec §8.6), or `None` for a Region the table does not list.
pub fn builtin_lambda_account(region: &str) -> Option<&'static str> {
    BUILTIN_LAMBDA_ACCOUNTS.iter().find(|(r, _)| *r == region).map(|(_, account)| *account)
}

/// Regions with built-in Ground Truth Lambdas and the account that owns them (spec §8.6).
pub const BUILTIN_LAMBDA_ACCOUNTS: [(&str, &str); 12] = [
    ("us-east-1", "432418664414"),
    ("us-east-2", "266458841044"),
    ("us-west-2", "081040173940"),
    ("ca-central-1", "918755190332"),
    ("eu-west-1", "568282634449"),
    ("eu-west-2", "487402164563"),
    ("eu-central-1", "203001061592"),
    ("ap-northeast-1", "477331159723"),
    ("ap-northeast-2", "845288260483"),
    ("ap-south-1", "565803892007"),
    ("ap-southeast-1", "377565633583"),
    ("ap-southeast-2", "454466003867"),
];

/// The ARN of the Mechanical Turk public work team in `region` (spec §8.4).
pub fn public_crowd_workteam_arn(region: &str) -> String {
    format!("arn:aws:sagemaker:{region}:{GROUND_TRUTH_UI_ACCOUNT}:{PUBLIC_CROWD_RESOURCE}")
}

/// The number of UTF-16 code units in `text`: the length AWS's (Java) service model constrains.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// An Amazon Resource Name split into its six parts, borrowing from the input.
///
/// `arn:<partition>:<service>:<region>:<account>:<resource>`; the resource keeps any further
/// colons (`function:PRE-BoundingBox`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, … (service-model pattern `aws[a-z\-]*`).
    pub partition: &'a str,
    /// The service namespace: `sagemaker`, `lambda`, `iam`, `sns`, `kms`, ….
    pub service: &'a str,
    /// The Region, empty for global services such as IAM.
    pub region: &'a str,
    /// The 12-digit account id (empty for a few AWS-owned resources).
    pub account: &'a str,
    /// Everything after the account: `role/x`, `workteam/private-crowd/team`, `function:f`.
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `text` into an ARN, checking the parts every ARN pattern in the CreateLabelingJob
    /// model shares: the `arn` prefix, an `aws…` partition, a lowercase service, a Region made of
    /// `[a-z0-9-]`, an empty or 12-digit account and a non-empty resource.
    pub fn parse(text: &'a str) -> Result<Self, String> {
        let mut parts = text.splitn(6, ':');
        let (
            Some(prefix),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "`{text}` is not an ARN (expected arn:<partition>:<service>:<region>:<account>:<resource>)"
            ));
        };
        if prefix != "arn" {
            return Err(format!("`{text}` is not an ARN (it must start with `arn:`)"));
        }
        let partition_ok = partition
            .strip_prefix("aws")
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
        if !partition_ok {
            return Err(format!("`{text}`: partition `{partition}` is not an AWS partition"));
        }
        if service.is_empty()
            || !service.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(format!("`{text}`: `{service}` is not a service name"));
        }
        if !region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(format!("`{text}`: `{region}` is not a Region name"));
        }
        if !account.is_empty() && !is_account_id(account) {
            return Err(format!("`{text}`: account `{account}` is not a 12-digit account id"));
        }
        if resource.is_empty() {
            return Err(format!("`{text}`: the resource part is empty"));
        }
        Ok(Self { partition, service, region, account, resource })
    }

    /// The Region, or `None` when the ARN has none (IAM roles).
    pub fn region(&self) -> Option<&'a str> {
        (!self.region.is_empty()).then_some(self.region)
    }
}

/// True for a 12-digit AWS account id.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Checks `text` against an ARN pattern of the form
/// `arn:aws[a-z\-]*:<service>:<region>:[0-9]{12}:<resource_prefix>…`, with a length limit.
///
/// `region_required` selects between the model's `[a-z0-9\-]+` and `[a-z0-9\-]*`.
pub fn check_arn<'a>(
    text: &'a str,
    service: &str,
    region_required: bool,
    resource_prefix: &str,
    max_len: usize,
) -> Result<Arn<'a>, String> {
    if text.len() > max_len {
        return Err(format!("is {} characters long; at most {max_len} are allowed", text.len()));
    }
    let arn = Arn::parse(text)?;
    if arn.service != service {
        return Err(format!("`{text}` is a `{}` ARN; a `{service}` ARN is expected", arn.service));
    }
    if region_required && arn.region.is_empty() {
        return Err(format!("`{text}` names no Region"));
    }
    if !is_account_id(arn.account) {
        return Err(format!("`{text}` names no 12-digit account id"));
    }
    if !arn.resource.starts_with(resource_prefix) {
        return Err(format!("`{text}`: the resource must start with `{resource_prefix}`"));
    }
    Ok(arn)
}

/// Checks an IAM role ARN: 20–2048 characters,
/// `arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+` (spec §8.2).
pub fn check_role_arn(text: &str) -> Result<Arn<'_>, String> {
    if text.len() < 20 {
        return Err(format!(
            "`{text}` is {} characters long; a role ARN has at least 20",
            text.len()
        ));
    }
    let arn = check_arn(text, "iam", false, "role", 2048)?;
    if !arn.region.is_empty() {
        return Err(format!("`{text}`: IAM ARNs carry no Region (expected `iam::<account>`)"));
    }
    let name = arn.resource.strip_prefix("role").unwrap_or_default();
    let name = name.strip_prefix('/').unwrap_or(name);
    let name_ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-/".contains(c));
    if !name_ok {
        return Err(format!("`{text}`: the role name may use only letters, digits and `_+=,.@-/`"));
    }
    Ok(arn)
}

/// The function name of a Lambda ARN (`…:function:<name>[:<qualifier>]`), after checking the
/// model pattern `arn:aws[a-z\-]*:lambda:[a-z0-9\-]*:[0-9]{12}:function:.*`, ≤ 2048 (spec §8.4).
pub fn check_lambda_arn(text: &str) -> Result<(Arn<'_>, &str), String> {
    let arn = check_arn(text, "lambda", false, "function:", 2048)?;
    let rest = arn.resource.strip_prefix("function:").unwrap_or_default();
    let name = rest.split(':').next().unwrap_or_default();
    if name.is_empty() {
        return Err(format!("`{text}` names no function"));
    }
    Ok((arn, name))
}

/// Checks an SNS topic ARN: `arn:aws[a-z\-]*:sns:[a-z0-9\-]*:[0-9]{12}:[a-zA-Z0-9_.-]+`,
/// ≤ 2048 (spec §8.2).
pub fn check_sns_topic_arn(text: &str) -> Result<Arn<'_>, String> {
    let arn = check_arn(text, "sns", false, "", 2048)?;
    if !arn.resource.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
        return Err(format!("`{text}`: a topic name uses only letters, digits and `_.-`"));
    }
    Ok(arn)
}

/// How an S3 URI was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Scheme {
    /// `s3://bucket/key`.
    S3,
    /// `https://…amazonaws.com/…`, virtual-hosted or path style.
    Https,
}

/// A parsed S3 URI (`(https|s3)://([^/]+)/?(.*)`, ≤ 1024 characters, spec §8.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    /// How it was written.
    pub scheme: S3Scheme,
    /// The bucket name.
    pub bucket: String,
    /// The key or prefix (may be empty: the bucket root).
    pub key: String,
    /// The Region named by an `https` endpoint; `None` for `s3://` URIs and global endpoints,
    /// where the bucket's Region cannot be known without asking S3.
    pub region: Option<String>,
}

impl S3Uri {
    /// Parses and checks an S3 URI: the service-model pattern and length, S3's bucket-naming
    /// rules, and for `https` an Amazon S3 endpoint host.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > 1024 {
            return Err(format!("is {} characters long; at most 1024 are allowed", text.len()));
        }
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            check_bucket_name(bucket).map_err(|e| format!("`{text}`: {e}"))?;
            return Ok(Self {
                scheme: S3Scheme::S3,
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                region: None,
            });
        }
        if let Some(rest) = text.strip_prefix("https://") {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let endpoint = parse_s3_host(host).ok_or_else(|| {
                format!(
                    "`{text}`: `{host}` is not an Amazon S3 endpoint (use s3://bucket/key or \
                     https://bucket.s3.<region>.amazonaws.com/key)"
                )
            })?;
            let (bucket, key) = match endpoint.bucket {
                Some(bucket) => (bucket, path),
                None => path.split_once('/').unwrap_or((path, "")),
            };
            check_bucket_name(bucket).map_err(|e| format!("`{text}`: {e}"))?;
            return Ok(Self {
                scheme: S3Scheme::Https,
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                region: endpoint.region.map(str::to_owned),
            });
        }
        Err(format!("`{text}` is not an S3 URI (expected s3://bucket/key or https://…)"))
    }
}

struct S3Host<'a> {
    bucket: Option<&'a str>,
    region: Option<&'a str>,
}

/// Recognises `[bucket.]s3[.dualstack][.|-]<region>.amazonaws.com[.cn]` and the global
/// `[bucket.]s3.amazonaws.com`.
fn parse_s3_host(host: &str) -> Option<S3Host<'_>> {
    let host = host.strip_suffix(".cn").unwrap_or(host);
    let stem = host.strip_suffix(".amazonaws.com")?;
    // The S3 label is the last `s3` / `s3-<region>` label that starts the endpoint part.
    let labels: Vec<&str> = stem.split('.').collect();
    let s3_index = labels.iter().rposition(|l| *l == "s3" || l.starts_with("s3-"))?;
    let bucket_labels = labels.get(..s3_index)?;
    let bucket = if bucket_labels.is_empty() {
        None
    } else {
        // Bucket names may contain dots: rejoin the labels before the endpoint.
        let end = bucket_labels.iter().map(|l| l.len() + 1).sum::<usize>() - 1;
        Some(stem.get(..end)?)
    };
    let s3_label = labels.get(s3_index)?;
    let after: Vec<&str> =
        labels.get(s3_index + 1..)?.iter().copied().filter(|l| *l != "dualstack").collect();
    let region = match (s3_label.strip_prefix("s3-"), after.as_slice()) {
        (Some(region), []) => Some(region),
        (None, []) => None,
        (None, [region]) => Some(*region),
        _ => return None,
    };
    if region.is_some_and(|r| r.is_empty() || r == "external-1") {
        return Some(S3Host { bucket, region: None });
    }
    Some(S3Host { bucket, region })
}

/// Checks S3's bucket-naming rules: 3–63 characters of `[a-z0-9.-]`, starting and ending with a
/// letter or digit, no `..`, not shaped like an IP address, no reserved prefix or suffix.
pub fn check_bucket_name(bucket: &str) -> Result<(), String> {
    if bucket.is_empty() {
        return Err("the bucket name is empty".to_owned());
    }
    if !(3..=63).contains(&bucket.len()) {
        return Err(format!("bucket `{bucket}` must be 3–63 characters long"));
    }
    if !bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    {
        return Err(format!(
            "bucket `{bucket}` may contain only lowercase letters, digits, `.` and `-`"
        ));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(bucket.chars().next()) || !edge_ok(bucket.chars().last()) {
        return Err(format!("bucket `{bucket}` must start and end with a letter or digit"));
    }
    if bucket.contains("..") {
        return Err(format!("bucket `{bucket}` must not contain `..`"));
    }
    if bucket.split('.').count() == 4 && bucket.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Err(format!("bucket `{bucket}` must not look like an IP address"));
    }
    if bucket.starts_with("xn--") || bucket.starts_with("sthree-") {
        return Err(format!("bucket `{bucket}` uses a reserved prefix"));
    }
    if bucket.ends_with("-s3alias") || bucket.ends_with("--ol-s3") {
        return Err(format!("bucket `{bucket}` uses a reserved suffix"));
    }
    Ok(())
}

/// The four ways to name a KMS key (spec §8.2 `KmsKeyId`; the AWS KMS key-id forms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsKeyRef {
    /// A key id: a UUID (`1234abcd-12ab-34cd-56ef-1234567890ab`) or a multi-Region `mrk-<32 hex>`.
    KeyId,
    /// `alias/<name>`.
    Alias,
    /// `arn:aws:kms:<region>:<account>:key/<key id>`, with its Region.
    KeyArn {
        /// The key's Region.
        region: String,
    },
    /// `arn:aws:kms:<region>:<account>:alias/<name>`, with its Region.
    AliasArn {
        /// The alias's Region.
        region: String,
    },
}

impl KmsKeyRef {
    /// Classifies `text` as one of the four KMS key forms, or says why it is none of them.
    /// Also enforces the model's `[a-zA-Z0-9:/_-]*`, ≤ 2048.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > 2048 {
            return Err(format!("is {} characters long; at most 2048 are allowed", text.len()));
        }
        if !text.chars().all(|c| c.is_ascii_alphanumeric() || ":/_-".contains(c)) {
            return Err(format!("`{text}` may contain only letters, digits and `:/_-`"));
        }
        if text.starts_with("arn:") {
            let arn = Arn::parse(text)?;
            if arn.service != "kms" {
                return Err(format!("`{text}` is a `{}` ARN, not a KMS key ARN", arn.service));
            }
            if arn.region.is_empty() || !is_account_id(arn.account) {
                return Err(format!("`{text}`: a KMS ARN names a Region and a 12-digit account"));
            }
            let region = arn.region.to_owned();
            if let Some(id) = arn.resource.strip_prefix("key/") {
                return if is_kms_key_id(id) {
                    Ok(Self::KeyArn { region })
                } else {
                    Err(format!("`{text}`: `{id}` is not a key id (UUID or mrk-…)"))
                };
            }
            if let Some(name) = arn.resource.strip_prefix("alias/") {
                return if is_alias_name(name) {
                    Ok(Self::AliasArn { region })
                } else {
                    Err(format!("`{text}`: `{name}` is not an alias name"))
                };
            }
            return Err(format!("`{text}`: a KMS ARN names `key/…` or `alias/…`"));
        }
        if let Some(name) = text.strip_prefix("alias/") {
            return if is_alias_name(name) {
                Ok(Self::Alias)
            } else {
                Err(format!("`{text}`: `{name}` is not an alias name"))
            };
        }
        if is_kms_key_id(text) {
            return Ok(Self::KeyId);
        }
        Err(format!("`{text}` is not a KMS key id, alias (alias/…), key ARN or alias ARN"))
    }

    /// The Region of an ARN form.
    pub fn region(&self) -> Option<&str> {
        match self {
            Self::KeyArn { region } | Self::AliasArn { region } => Some(region),
            Self::KeyId | Self::Alias => None,
        }
    }
}

fn is_kms_key_id(text: &str) -> bool {
    if let Some(hex) = text.strip_prefix("mrk-") {
        return hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_alias_name(name: &str) -> bool {
    (1..=250).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
        && !name.ends_with('/')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn arn_parts() {
        let arn =
            Arn::parse("arn:aws:lambda:us-east-1:432418664414:function:PRE-BoundingBox").unwrap();
        assert_eq!(arn.service, "lambda");
        assert_eq!(arn.region(), Some("us-east-1"));
        assert_eq!(arn.resource, "function:PRE-BoundingBox");
        assert!(Arn::parse("arn:gcp:x:y:111122223333:z").is_err());
        assert!(Arn::parse("arn:aws:x").is_err());
        assert!(Arn::parse("arn:aws:iam::12345:role/x").is_err());
    }

    #[test]
    fn role_arns() {
        assert!(check_role_arn("arn:aws:iam::111122223333:role/gt-role").is_ok());
        assert!(check_role_arn("arn:aws:iam::111122223333:role/service-role/My.Role+1").is_ok());
        assert!(check_role_arn("arn:aws:iam::111122223333:user/gt").is_err());
        assert!(check_role_arn("arn:aws:iam:us-east-1:111122223333:role/gt").is_err());
        assert!(check_role_arn("arn:aws:iam::111122223333:role/").is_err());
        assert!(check_role_arn("arn:aws:iam::111122223333:role/a b").is_err());
    }

    #[test]
    fn lambda_function_names() {
        let (_, name) =
            check_lambda_arn("arn:aws:lambda:us-west-2:081040173940:function:ACS-BoundingBox:3")
                .unwrap();
        assert_eq!(name, "ACS-BoundingBox");
        assert!(check_lambda_arn("arn:aws:lambda:us-west-2:081040173940:layer:x").is_err());
    }

    #[test]
    fn s3_uris() {
        let uri = S3Uri::parse("s3://example-bucket/in/a.manifest").unwrap();
        assert_eq!(
            (uri.bucket.as_str(), uri.key.as_str(), uri.region),
            ("example-bucket", "in/a.manifest", None)
        );
        assert_eq!(S3Uri::parse("s3://example-bucket").unwrap().key, "");
        let cases = [
            (
                "https://my.bucket.s3.eu-west-1.amazonaws.com/k/x",
                "my.bucket",
                "k/x",
                Some("eu-west-1"),
            ),
            ("https://bkt.s3-us-west-2.amazonaws.com/k", "bkt", "k", Some("us-west-2")),
            ("https://bkt.s3.dualstack.us-east-2.amazonaws.com/k", "bkt", "k", Some("us-east-2")),
            ("https://bkt.s3.amazonaws.com/k", "bkt", "k", None),
            ("https://s3.ap-south-1.amazonaws.com/bkt/k/y", "bkt", "k/y", Some("ap-south-1")),
            ("https://s3.amazonaws.com/bkt/k", "bkt", "k", None),
        ];
        for (text, bucket, key, region) in cases {
            let uri = S3Uri::parse(text).unwrap();
            assert_eq!(uri.bucket, bucket, "{text}");
            assert_eq!(uri.key, key, "{text}");
            assert_eq!(uri.region.as_deref(), region, "{text}");
        }
        for bad in [
            "s3://",
            "s3://Upper/k",
            "s3://ab/k",
            "s3://-bucket/k",
            "s3://a..b/k",
            "s3://192.168.1.1/k",
            "https://example.com/bkt/k",
            "ftp://bkt/k",
            "bkt/k",
        ] {
            assert!(S3Uri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kms_forms() {
        assert_eq!(
            KmsKeyRef::parse("1234abcd-12ab-34cd-56ef-1234567890ab").unwrap(),
            KmsKeyRef::KeyId
        );
        assert_eq!(
            KmsKeyRef::parse("mrk-1234abcd12ab34cd56ef1234567890ab").unwrap(),
            KmsKeyRef::KeyId
        );
        assert_eq!(KmsKeyRef::parse("alias/gt-output").unwrap(), KmsKeyRef::Alias);
        assert_eq!(
            KmsKeyRef::parse(
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            )
            .unwrap(),
            KmsKeyRef::KeyArn { region: "us-east-1".into() }
        );
        assert_eq!(
            KmsKeyRef::parse("arn:aws:kms:eu-west-1:111122223333:alias/x").unwrap().region(),
            Some("eu-west-1")
        );
        for bad in [
            "",
            "1234",
            "alias/",
            "alias/a b",
            "arn:aws:kms:us-east-1:111122223333:key/nope",
            "arn:aws:s3:::bucket",
        ] {
            assert!(KmsKeyRef::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lambda_accounts() {
        assert_eq!(builtin_lambda_account("us-east-1"), Some("432418664414"));
        assert_eq!(builtin_lambda_account("mars-north-1"), None);
    }
}
