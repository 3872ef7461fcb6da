//! What a report is and the rules a submission must meet. Pure: the caller looks up the
//! divisions named and passes what it found.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error_code::ErrorCode;
use super::id_number::{self, IdNumberError};
use super::text::{self, LengthProblem};
use super::violation::FieldViolation;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal / $zh:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)] // stored through db::text
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The name shown to people, in Chinese.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }

            pub fn names() -> String {
                [$($text),+].join(", ")
            }
        }
    };
}

text_enum!(
    /// The poverty-relief programme a report is about.
    Programme {
        Dibao = "dibao" / "低保",
        HouseRenovation = "house_renovation" / "农村危旧土坯房改造",
        PovertyIdentification = "poverty_identification" / "扶贫对象识别",
        Other = "other" / "其他",
    }
);

text_enum!(
    Misconduct {
        Favouritism = "favouritism" / "优亲厚友",
        BlackBox = "black_box" / "暗箱操作",
        ImproperProcedure = "improper_procedure" / "程序不到位",
        FalseClaim = "false_claim" / "虚报冒领",
        Embezzlement = "embezzlement" / "贪污挪用",
        Other = "other" / "其他",
    }
);

text_enum!(
    /// How a report arrived. Only `web` is open to the public; the others are logged by intake.
    Channel {
        Web = "web" / "网上举报",
        Phone = "phone" / "电话",
        Letter = "letter" / "来信",
        Visit = "visit" / "来访",
    }
);

text_enum!(
    /// A report's status as the commission handles it.
    ReportStatus {
        Received = "received" / "已收到，正在登记审查",
        Accepted = "accepted" / "已受理，正在办理",
        Transferred = "transferred" / "已转有关部门办理",
        Merged = "merged" / "已并入同一事项一并办理",
        Escalated = "escalated" / "已报上级纪检监察机关办理",
        Concluded = "concluded" / "已办结",
    }
);

impl ReportStatus {
    /// What the status means for the reporter, in Chinese. Never names staff.
    pub fn explanation_zh(self) -> &'static str {
        match self {
            ReportStatus::Received => {
                "您的举报已登记。县纪委将在5个工作日内决定受理或转交有关部门，并在此告知。"
            }
            ReportStatus::Accepted => {
                "您的举报已受理，正在核查。如需补充材料，办理人员会在此留言。"
            }
            ReportStatus::Transferred => "您反映的问题已按管辖转交有关部门办理。",
            ReportStatus::Merged => "您反映的问题与已登记的事项相同，已合并办理。",
            ReportStatus::Escalated => "您反映的问题依规报送上级纪检监察机关办理。",
            ReportStatus::Concluded => "您的举报已办结。实名举报的，办理结果将在15个工作日内反馈。",
        }
    }
}

/// What the reporter is told became of their report after triage, in plain Chinese (issue 9):
/// accepted "已受理，正在办理"; transferred "已转交<body>办理"; escalated "已上报<body>办理";
/// merged "已并入正在办理的案件一并处理"; a case closed without action (Art 17, 予以了结)
/// "已予以了结". `to_body` is the body named at triage; `closed_without_action` whether the
/// report's case was closed so. Other statuses keep their label.
pub fn outcome_zh(
    status: ReportStatus,
    to_body: Option<&str>,
    closed_without_action: bool,
) -> String {
    match status {
        ReportStatus::Accepted | ReportStatus::Merged if closed_without_action => {
            "已予以了结".to_string()
        }
        ReportStatus::Accepted => "已受理，正在办理".to_string(),
        ReportStatus::Transferred => match to_body {
            Some(body) => format!("已转交{body}办理"),
            None => status.label_zh().to_string(),
        },
        ReportStatus::Escalated => match to_body {
            Some(body) => format!("已上报{body}办理"),
            None => status.label_zh().to_string(),
        },
        ReportStatus::Merged => "已并入正在办理的案件一并处理".to_string(),
        _ => status.label_zh().to_string(),
    }
}

/// A person named by the reporter, in free text. Intake links them to officials later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccusedPerson {
    pub name: String,
    #[serde(default)]
    pub position: Option<String>,
}

/// The reporter's identity, checked. Encrypted before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReporterIdentity {
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub email: Option<String>,
    pub address: Option<String>,
}

/// A submission as typed, every field optional so that every problem can be reported at once.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RawSubmission {
    /// `dibao | house_renovation | poverty_identification | other`
    pub programme: Option<String>,
    /// One or more of `favouritism | black_box | improper_procedure | false_claim | embezzlement | other`.
    pub misconduct: Option<Vec<String>>,
    /// 9-digit township code.
    pub township_code: Option<String>,
    /// 12-digit village code, in that township.
    pub village_code: Option<String>,
    #[serde(default)]
    pub accused: Vec<AccusedPerson>,
    /// 20–10,000 characters.
    pub description: Option<String>,
    /// `YYYY-MM-DD`, not in the future.
    pub occurred_from: Option<String>,
    pub occurred_to: Option<String>,
    pub anonymous: Option<bool>,
    /// Required when `anonymous` is false; omitted or null when it is true.
    pub reporter: Option<RawReporter>,
    /// `web` (default); `phone | letter | visit` are logged by intake officers.
    pub channel: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RawReporter {
    pub name: Option<String>,
    /// 18 characters with a valid GB 11643 check digit.
    pub id_number: Option<String>,
    /// 11 digits starting with 1.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

/// What validation found about the divisions named.
#[derive(Debug, Clone, Default)]
pub struct DivisionFacts {
    /// The township code names a township.
    pub township_exists: bool,
    /// The village code names a village; `Some(parent)` gives its township.
    pub village_parent: Option<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct ValidSubmission {
    pub programme: Programme,
    pub misconduct: Vec<Misconduct>,
    pub township_code: String,
    pub village_code: String,
    pub accused: Vec<AccusedPerson>,
    pub description: String,
    pub occurred_from: Option<NaiveDate>,
    pub occurred_to: Option<NaiveDate>,
    pub reporter: Option<ReporterIdentity>,
    pub channel: Channel,
}

pub const DESCRIPTION_MIN: usize = 20;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const ACCUSED_MAX: usize = 20;
/// The longest name of a person (an accused person, the reporter), in characters.
pub const NAME_MAX: usize = 50;
/// The longest position (职务) of an accused person, in characters.
pub const POSITION_MAX: usize = 50;
/// The longest address of the reporter, in characters.
pub const ADDRESS_MAX: usize = 200;
/// What the pages say when the township or the village is missing.
const PLACE_REQUIRED_ZH: &str = "请选择事情发生的乡镇和村。";

/// Free text, cleaned (`text::clean`); `None` when nothing visible is left.
fn trimmed(s: &Option<String>) -> Option<String> {
    text::clean_opt(s.as_deref())
}

/// A code-like field, full-width forms folded and separators dropped (`text::compact_code`).
fn code(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(text::compact_code)
        .filter(|v| !v.is_empty())
}

/// Every text field of a submission, by its API name, for the control-character rule.
fn text_fields(raw: &RawSubmission) -> Vec<(String, &str)> {
    let mut optional: Vec<(String, &Option<String>)> = vec![
        ("programme".into(), &raw.programme),
        ("township_code".into(), &raw.township_code),
        ("village_code".into(), &raw.village_code),
        ("description".into(), &raw.description),
        ("occurred_from".into(), &raw.occurred_from),
        ("occurred_to".into(), &raw.occurred_to),
        ("channel".into(), &raw.channel),
    ];
    if let Some(r) = &raw.reporter {
        optional.extend([
            ("reporter.name".into(), &r.name),
            ("reporter.id_number".into(), &r.id_number),
            ("reporter.phone".into(), &r.phone),
            ("reporter.email".into(), &r.email),
            ("reporter.address".into(), &r.address),
        ]);
    }
    let mut fields: Vec<(String, &str)> = Vec::new();
    for (i, a) in raw.accused.iter().enumerate() {
        fields.push((format!("accused[{i}].name"), a.name.as_str()));
        optional.push((format!("accused[{i}].position"), &a.position));
    }
    for (i, m) in raw.misconduct.iter().flatten().enumerate() {
        fields.push((format!("misconduct[{i}]"), m.as_str()));
    }
    fields.extend(
        optional
            .into_iter()
            .filter_map(|(name, value)| value.as_deref().map(|v| (name, v))),
    );
    fields
}

fn valid_phone(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('1') && phone.chars().all(|c| c.is_ascii_digit())
}

/// Checks a submission against every rule, returning all problems at once.
pub fn validate(
    raw: &RawSubmission,
    today: NaiveDate,
    divisions: &DivisionFacts,
) -> Result<ValidSubmission, Vec<FieldViolation>> {
    // Controls first: a field holding one is reported as such, whatever else is wrong with it.
    let mut errors: Vec<FieldViolation> = text_fields(raw)
        .into_iter()
        .filter_map(|(field, value)| text::check_controls(&field, value).err())
        .collect();
    let refused: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    let mut err = |v: FieldViolation| {
        if refused.contains(&v.field) {
            return;
        }
        errors.push(v)
    };

    let programme = match trimmed(&raw.programme) {
        None => {
            err(FieldViolation::new(
                "programme",
                ErrorCode::Required,
                format!("choose one of {}", Programme::names()),
            )
            .zh("请选择举报涉及的项目。"));
            None
        }
        Some(p) => Programme::parse(&p).or_else(|| {
            err(FieldViolation::new(
                "programme",
                ErrorCode::UnknownValue,
                format!("unknown programme {p:?}; use one of {}", Programme::names()),
            )
            .zh("所选项目无效，请重新选择。"));
            None
        }),
    };

    let mut misconduct = Vec::new();
    match &raw.misconduct {
        None => err(FieldViolation::new(
            "misconduct",
            ErrorCode::Required,
            format!("give one or more of {}", Misconduct::names()),
        )
        .zh("请至少选择一种问题类型。")),
        Some(list) if list.is_empty() => err(FieldViolation::new(
            "misconduct",
            ErrorCode::Required,
            format!("give one or more of {}", Misconduct::names()),
        )
        .zh("请至少选择一种问题类型。")),
        Some(list) => {
            for (i, m) in list.iter().enumerate() {
                match Misconduct::parse(m.trim()) {
                    Some(v) if !misconduct.contains(&v) => misconduct.push(v),
                    Some(_) => {}
                    None => err(FieldViolation::new(
                        format!("misconduct[{i}]"),
                        ErrorCode::UnknownValue,
                        format!("unknown misconduct type {m:?}; use {}", Misconduct::names()),
                    )
                    .zh("所选问题类型无效，请重新选择。")),
                }
            }
        }
    }

    let township_code = code(&raw.township_code);
    match &township_code {
        None => err(FieldViolation::new(
            "township_code",
            ErrorCode::Required,
            "choose the township (乡镇)",
        )
        .zh(PLACE_REQUIRED_ZH)),
        Some(_) if !divisions.township_exists => err(FieldViolation::new(
            "township_code",
            ErrorCode::UnknownTownship,
            "no township has this code",
        )),
        _ => {}
    }
    let village_code = code(&raw.village_code);
    match (&village_code, &divisions.village_parent) {
        (None, _) => err(FieldViolation::new(
            "village_code",
            ErrorCode::Required,
            "choose the village (村)",
        )
        .zh(PLACE_REQUIRED_ZH)),
        (Some(_), None) => err(FieldViolation::new(
            "village_code",
            ErrorCode::UnknownVillage,
            "no village has this code",
        )),
        (Some(_), Some(parent)) => {
            if township_code.is_some() && divisions.township_exists && parent != &township_code {
                err(FieldViolation::new(
                    "village_code",
                    ErrorCode::VillageNotInTownship,
                    "this village is not in the chosen township",
                ));
            }
        }
    }

    if raw.accused.len() > ACCUSED_MAX {
        err(FieldViolation::new(
            "accused",
            ErrorCode::TooMany,
            format!("name at most {ACCUSED_MAX} people"),
        )
        .limit(ACCUSED_MAX)
        .zh(format!("被举报人最多填写{ACCUSED_MAX}名。")));
    }
    let mut accused = Vec::new();
    for (i, a) in raw.accused.iter().enumerate() {
        let name = text::clean(&a.name);
        if text::check_length(&name, 1, NAME_MAX).is_some() {
            err(FieldViolation::new(
                format!("accused[{i}].name"),
                ErrorCode::InvalidLength,
                format!("a name has 1–{NAME_MAX} characters"),
            )
            .limit(NAME_MAX)
            .zh(format!(
                "请填写被举报人的姓名（1至{NAME_MAX}个字）；不知道全名可以写“张某”。"
            )));
        }
        let position = trimmed(&a.position);
        if position
            .as_ref()
            .is_some_and(|p| p.chars().count() > POSITION_MAX)
        {
            err(FieldViolation::new(
                format!("accused[{i}].position"),
                ErrorCode::TooLong,
                format!("at most {POSITION_MAX} characters"),
            )
            .limit(POSITION_MAX)
            .zh(format!("职务不能超过{POSITION_MAX}个字。")));
        }
        accused.push(AccusedPerson { name, position });
    }

    // Visible characters count towards the minimum; every character (line breaks as LF)
    // towards the maximum. See `domain::text`.
    let description = text::clean(raw.description.as_deref().unwrap_or_default());
    match text::check_length(&description, DESCRIPTION_MIN, DESCRIPTION_MAX) {
        Some(p @ (LengthProblem::Required | LengthProblem::TooShort)) => err(FieldViolation::new(
            "description",
            p.code(),
            format!("describe what happened in at least {DESCRIPTION_MIN} visible characters"),
        )
        .limit(DESCRIPTION_MIN)
        .zh(if p == LengthProblem::Required {
            format!("请写明事情经过，至少{DESCRIPTION_MIN}个字。")
        } else {
            format!("描述太短，请至少写{DESCRIPTION_MIN}个字，说清楚什么人、什么时候、做了什么事。")
        })),
        Some(LengthProblem::TooLong) => err(FieldViolation::new(
            "description",
            ErrorCode::TooLong,
            format!("at most {DESCRIPTION_MAX} characters"),
        )
        .limit(DESCRIPTION_MAX)
        .zh(format!("描述不能超过{DESCRIPTION_MAX}个字。"))),
        None => {}
    }

    let mut date = |field: &str, value: &Option<String>| -> Option<NaiveDate> {
        let v = value
            .as_deref()
            .map(text::fold_code)
            .filter(|v| !v.is_empty())?;
        match text::parse_date(&v).ok_or(()) {
            Ok(d) if d > today => {
                err(FieldViolation::new(
                    field,
                    ErrorCode::InFuture,
                    "the date cannot be in the future",
                ));
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                err(FieldViolation::new(
                    field,
                    ErrorCode::InvalidDate,
                    "write the date as YYYY-MM-DD",
                ));
                None
            }
        }
    };
    let occurred_from = date("occurred_from", &raw.occurred_from);
    let occurred_to = date("occurred_to", &raw.occurred_to);
    if let (Some(from), Some(to)) = (occurred_from, occurred_to) {
        if to < from {
            err(FieldViolation::new(
                "occurred_to",
                ErrorCode::BeforeStart,
                "the end is before the start",
            ));
        }
    }

    let reporter = match raw.anonymous {
        None => {
            err(FieldViolation::new(
                "anonymous",
                ErrorCode::Required,
                "say whether the report is anonymous (true/false)",
            )
            .zh("请选择匿名举报或实名举报。"));
            None
        }
        Some(true) => {
            if raw.reporter.is_some() {
                err(FieldViolation::new(
                    "reporter",
                    ErrorCode::MustBeEmpty,
                    "an anonymous report carries no identity; omit reporter or set anonymous to false"));
            }
            None
        }
        Some(false) => match &raw.reporter {
            None => {
                err(FieldViolation::new(
                    "reporter",
                    ErrorCode::Required,
                    "a real-name report needs the reporter's details",
                )
                .zh("实名举报需要填写姓名、身份证号和手机号。"));
                None
            }
            Some(r) => {
                let name = trimmed(&r.name);
                if name.as_ref().is_none_or(|n| n.chars().count() > NAME_MAX) {
                    err(FieldViolation::new(
                        "reporter.name",
                        ErrorCode::Required,
                        format!("give your name (1–{NAME_MAX} characters)"),
                    )
                    .limit(NAME_MAX)
                    .zh(format!("请填写您的姓名（1至{NAME_MAX}个字）。")));
                }
                let id_number = match code(&r.id_number) {
                    None => {
                        err(FieldViolation::new(
                            "reporter.id_number",
                            ErrorCode::Required,
                            "give your 18-character ID number",
                        )
                        .zh("请填写您的18位身份证号。"));
                        None
                    }
                    Some(id) => match id_number::check(&id) {
                        Ok(id) => Some(id),
                        Err(IdNumberError::CheckDigit) => {
                            err(FieldViolation::new(
                                "reporter.id_number",
                                ErrorCode::BadCheckDigit,
                                "the ID number's check digit is wrong; check for a typing error",
                            ));
                            None
                        }
                        Err(IdNumberError::BirthDate) => {
                            err(FieldViolation::new(
                                "reporter.id_number",
                                ErrorCode::InvalidBirthDate,
                                "the birth date in the ID number is not a real date",
                            ));
                            None
                        }
                        Err(IdNumberError::Format) => {
                            err(FieldViolation::new(
                                "reporter.id_number",
                                ErrorCode::InvalidFormat,
                                "an ID number is 17 digits and a digit or X",
                            ));
                            None
                        }
                    },
                };
                let phone = match code(&r.phone) {
                    Some(p) if valid_phone(&p) => Some(p),
                    Some(_) => {
                        err(FieldViolation::new(
                            "reporter.phone",
                            ErrorCode::InvalidPhone,
                            "a mobile number is 11 digits starting with 1",
                        ));
                        None
                    }
                    None => {
                        err(FieldViolation::new(
                            "reporter.phone",
                            ErrorCode::Required,
                            "give a mobile number",
                        )
                        .zh("请填写您的手机号。"));
                        None
                    }
                };
                let email = r
                    .email
                    .as_deref()
                    .map(text::fold_email)
                    .filter(|e| !e.is_empty());
                if email
                    .as_ref()
                    .is_some_and(|e| !crate::domain::email::is_valid(e))
                {
                    err(FieldViolation::new(
                        "reporter.email",
                        ErrorCode::InvalidEmail,
                        "not a valid email address",
                    ));
                }
                let address = trimmed(&r.address);
                if address
                    .as_ref()
                    .is_some_and(|a| a.chars().count() > ADDRESS_MAX)
                {
                    err(FieldViolation::new(
                        "reporter.address",
                        ErrorCode::TooLong,
                        format!("at most {ADDRESS_MAX} characters"),
                    )
                    .limit(ADDRESS_MAX)
                    .zh(format!("地址不能超过{ADDRESS_MAX}个字。")));
                }
                match (name, id_number, phone) {
                    (Some(name), Some(id_number), Some(phone)) => Some(ReporterIdentity {
                        name,
                        id_number,
                        phone,
                        email,
                        address,
                    }),
                    _ => None,
                }
            }
        },
    };

    let channel = match trimmed(&raw.channel) {
        None => Some(Channel::Web),
        Some(c) => Channel::parse(&c).or_else(|| {
            err(FieldViolation::new(
                "channel",
                ErrorCode::UnknownValue,
                format!("use one of {}", Channel::names()),
            ));
            None
        }),
    };

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidSubmission {
        programme: programme.expect("checked"),
        misconduct,
        township_code: township_code.expect("checked"),
        village_code: village_code.expect("checked"),
        accused,
        description,
        occurred_from,
        occurred_to,
        reporter,
        channel: channel.expect("checked"),
    })
}

/// The longest follow-up message from a reporter, in characters.
pub const MESSAGE_MAX: usize = 5_000;

/// A follow-up message's text rule: 1 to `MESSAGE_MAX` characters, at least one visible
/// (`domain::text`). Takes the cleaned text; returns the violation for field `body`.
pub fn check_message(body: &str) -> Result<(), FieldViolation> {
    match text::check_length(body, 1, MESSAGE_MAX) {
        None => Ok(()),
        Some(problem) => {
            let v = FieldViolation::new(
                "body",
                problem.code(),
                format!("a message has 1–{MESSAGE_MAX} characters, at least one visible"),
            )
            .limit(MESSAGE_MAX);
            Err(match problem {
                LengthProblem::TooLong => v.zh(format!("留言不能超过{MESSAGE_MAX}个字。")),
                LengthProblem::Required | LengthProblem::TooShort => v.zh("请填写留言内容。"),
            })
        }
    }
}

/// No file was sent where at least one is needed (field `files`).
pub fn files_required() -> FieldViolation {
    FieldViolation::new("files", ErrorCode::Required, "attach at least one file")
        .zh("请至少选择一个文件。")
}

/// A file of 0 bytes (field `files`).
pub fn file_empty() -> FieldViolation {
    FieldViolation::new("files", ErrorCode::Empty, "a file is empty")
        .zh("有一个文件是空的（0字节），请重新选择。")
}

/// More files than `max` (the `max_attachments` setting) in one request (field `files`).
pub fn too_many_files(max: usize) -> FieldViolation {
    FieldViolation::new("files", ErrorCode::TooMany, format!("at most {max} files"))
        .limit(max)
        .zh(format!("文件太多了，一次最多上传{max}个。"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reporter_is_told_each_triage_outcome_in_plain_chinese() {
        use ReportStatus as S;
        assert_eq!(outcome_zh(S::Accepted, None, false), "已受理，正在办理");
        assert_eq!(
            outcome_zh(S::Transferred, Some("县民政局"), false),
            "已转交县民政局办理"
        );
        assert_eq!(
            outcome_zh(S::Escalated, Some("赣州市纪委"), false),
            "已上报赣州市纪委办理"
        );
        assert_eq!(
            outcome_zh(S::Merged, None, false),
            "已并入正在办理的案件一并处理"
        );
        assert_eq!(outcome_zh(S::Accepted, None, true), "已予以了结");
        assert_eq!(outcome_zh(S::Received, None, false), S::Received.label_zh());
    }

    fn today() -> NaiveDate {
        "2026-11-29".parse().unwrap()
    }

    fn facts() -> DivisionFacts {
        DivisionFacts {
            township_exists: true,
            village_parent: Some(Some("360734100".into())),
        }
    }

    fn good() -> RawSubmission {
        RawSubmission {
            programme: Some("dibao".into()),
            misconduct: Some(vec!["favouritism".into(), "black_box".into()]),
            township_code: Some("360734100".into()),
            village_code: Some("360734100201".into()),
            accused: vec![AccusedPerson {
                name: "张某某".into(),
                position: Some("村支书".into()),
            }],
            description: Some(
                "村支书把低保名额给了自己的亲戚,评议会没有公示,群众意见很大。".into(),
            ),
            occurred_from: Some("2026-03-01".into()),
            occurred_to: Some("2026-05-31".into()),
            anonymous: Some(false),
            reporter: Some(RawReporter {
                name: Some("李某".into()),
                id_number: Some("11010519491231002X".into()),
                phone: Some("13800138000".into()),
                email: None,
                address: None,
            }),
            channel: None,
        }
    }

    fn codes(raw: &RawSubmission, facts: &DivisionFacts) -> Vec<(String, ErrorCode)> {
        validate(raw, today(), facts)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    fn has(errors: &[(String, ErrorCode)], field: &str, code: ErrorCode) -> bool {
        errors.iter().any(|(f, c)| f == field && *c == code)
    }

    #[test]
    fn the_spec_example_is_valid() {
        let valid = validate(&good(), today(), &facts()).unwrap();
        assert_eq!(valid.programme, Programme::Dibao);
        assert_eq!(valid.channel, Channel::Web);
        assert_eq!(valid.reporter.unwrap().id_number, "11010519491231002X");
    }

    #[test]
    fn every_rule_reports_its_field() {
        let mut r = good();
        r.programme = Some("housing".into());
        r.misconduct = Some(vec!["bribery".into()]);
        r.description = Some("太短了".into());
        r.occurred_from = Some("2027-01-01".into());
        r.occurred_to = Some("31/05/2026".into());
        r.reporter.as_mut().unwrap().id_number = Some("110105194912310021".into());
        r.reporter.as_mut().unwrap().phone = Some("23800138000".into());
        let e = codes(&r, &facts());
        assert!(has(&e, "programme", ErrorCode::UnknownValue));
        assert!(has(&e, "misconduct[0]", ErrorCode::UnknownValue));
        assert!(has(&e, "description", ErrorCode::TooShort));
        assert!(has(&e, "occurred_from", ErrorCode::InFuture));
        assert!(has(&e, "occurred_to", ErrorCode::InvalidDate));
        assert!(has(&e, "reporter.id_number", ErrorCode::BadCheckDigit));
        assert!(has(&e, "reporter.phone", ErrorCode::InvalidPhone));
    }

    #[test]
    fn village_must_lie_in_the_township() {
        let elsewhere = DivisionFacts {
            township_exists: true,
            village_parent: Some(Some("360734101".into())),
        };
        assert!(has(
            &codes(&good(), &elsewhere),
            "village_code",
            ErrorCode::VillageNotInTownship
        ));
        let unknown = DivisionFacts {
            township_exists: false,
            village_parent: None,
        };
        let e = codes(&good(), &unknown);
        assert!(has(&e, "township_code", ErrorCode::UnknownTownship));
        assert!(has(&e, "village_code", ErrorCode::UnknownVillage));
    }

    #[test]
    fn real_name_needs_identity_and_anonymous_forbids_it() {
        let mut r = good();
        r.reporter = None;
        assert!(has(&codes(&r, &facts()), "reporter", ErrorCode::Required));
        let mut r = good();
        r.anonymous = Some(true);
        assert!(has(
            &codes(&r, &facts()),
            "reporter",
            ErrorCode::MustBeEmpty
        ));
        r.reporter = None;
        assert!(validate(&r, today(), &facts()).unwrap().reporter.is_none());
        let mut r = good();
        r.reporter.as_mut().unwrap().name = None;
        assert!(has(
            &codes(&r, &facts()),
            "reporter.name",
            ErrorCode::Required
        ));
    }

    #[test]
    fn description_bounds_and_date_order() {
        let mut r = good();
        r.description = Some("很".repeat(DESCRIPTION_MAX + 1));
        assert!(has(&codes(&r, &facts()), "description", ErrorCode::TooLong));
        r.description = Some("很".repeat(DESCRIPTION_MIN));
        r.occurred_from = Some("2026-06-01".into());
        assert!(has(
            &codes(&r, &facts()),
            "occurred_to",
            ErrorCode::BeforeStart
        ));
    }

    #[test]
    fn text_rules_apply_to_every_field() {
        let mut r = good();
        r.description = Some(format!("{}\0", good().description.unwrap()));
        r.accused[0].name = "张\u{1}".into();
        r.reporter.as_mut().unwrap().name = Some("李\u{7f}".into());
        let e = codes(&r, &facts());
        assert!(has(&e, "description", ErrorCode::ControlCharacter));
        assert!(has(&e, "accused[0].name", ErrorCode::ControlCharacter));
        assert!(has(&e, "reporter.name", ErrorCode::ControlCharacter));
        assert_eq!(e.iter().filter(|(f, _)| f == "description").count(), 1);

        let mut r = good();
        r.description = Some("\u{200b}".repeat(20));
        r.accused[0].name = "\u{200d}\u{200d}".into();
        r.reporter.as_mut().unwrap().name = Some("\u{3000}\u{feff}".into());
        let e = codes(&r, &facts());
        assert!(has(&e, "description", ErrorCode::Required));
        assert!(has(&e, "accused[0].name", ErrorCode::InvalidLength));
        assert!(has(&e, "reporter.name", ErrorCode::Required));
    }

    #[test]
    fn crlf_counts_as_one_character_and_is_stored_as_lf() {
        let mut r = good();
        let line = format!("{}\r\n", "很".repeat(99));
        r.description = Some(line.repeat(100));
        let valid = validate(&r, today(), &facts()).unwrap();
        assert_eq!(valid.description.chars().count(), 9_999);
        assert!(!valid.description.contains('\r'));
    }

    #[test]
    fn full_width_codes_are_folded() {
        let mut r = good();
        r.township_code = Some("３６０７３４１００".into());
        r.village_code = Some("３６０７３４１００２０１".into());
        r.occurred_from = Some("２０２６－０３－０１".into());
        let rep = r.reporter.as_mut().unwrap();
        rep.id_number = Some("１１０１０５１９４９１２３１００２Ｘ".into());
        rep.phone = Some("１３８　００１３－８０００".into());
        rep.email = Some("ｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ".into());
        let valid = validate(&r, today(), &facts()).unwrap();
        assert_eq!(valid.township_code, "360734100");
        assert_eq!(valid.village_code, "360734100201");
        let reporter = valid.reporter.unwrap();
        assert_eq!(reporter.id_number, "11010519491231002X");
        assert_eq!(reporter.phone, "13800138000");
        assert_eq!(reporter.email.as_deref(), Some("li@example.com"));
    }
}
