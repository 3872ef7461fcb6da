//! `FieldViolation`: one broken rule for one field, built where the rule is (in `domain/`, or
//! where a request is read), carrying everything both faces need:
//!
//! - the API serves `{field, code, message}` in `errors[]`, the message in English;
//! - the public pages show `message_zh`, the Chinese sentence for the reporter.
//!
//! A rule with a limit (50 characters, 10 files …) records it in `limit` and writes it into both
//! messages from the same constant, so each limit is written once, in the rule.

use serde::Serialize;
use utoipa::ToSchema;

use super::error_code::ErrorCode;

/// One bad field in a request.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[schema(as = FieldError)]
pub struct FieldViolation {
    /// The field's name as sent, e.g. `reporter.id_number`.
    pub field: String,
    /// A stable machine-readable reason, e.g. `required`, `too_short`.
    #[schema(value_type = String)]
    pub code: ErrorCode,
    /// What was wrong and what is accepted (English).
    pub message: String,
    /// The rule's limit, when it has one (a length, a count).
    #[serde(skip)]
    #[schema(ignore)]
    pub limit: Option<usize>,
    /// The same in Chinese, for the public pages.
    #[serde(skip)]
    #[schema(ignore)]
    pub message_zh: String,
}

impl FieldViolation {
    /// A violation whose Chinese message is the code's general one (`general_zh`).
    pub fn new(field: impl Into<String>, code: ErrorCode, message: impl Into<String>) -> Self {
        FieldViolation {
            field: field.into(),
            code,
            message: message.into(),
            limit: None,
            message_zh: general_zh(code).to_string(),
        }
    }

    /// The same with the field-specific Chinese message the rule gives.
    pub fn zh(mut self, message_zh: impl Into<String>) -> Self {
        self.message_zh = message_zh.into();
        self
    }

    /// The same recording the rule's limit.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// What the pages say for a code when the rule gives nothing more specific.
pub fn general_zh(code: ErrorCode) -> &'static str {
    use ErrorCode::*;
    match code {
        Required => "此项必须填写。",
        UnknownValue => "所选内容无效，请重新选择。",
        UnknownTownship => "找不到所选的乡镇，请重新选择。",
        UnknownVillage => "找不到所选的村，请重新选择。",
        VillageNotInTownship => "所选的村不属于所选的乡镇，请重新选择。",
        TooShort => "内容太短，请补充。",
        TooLong => "内容太长，请删减。",
        InvalidDate => "日期格式不对，请按“2026-03-01”的格式填写（年-月-日）。",
        InFuture => "日期不能晚于今天。",
        BeforeStart => "结束日期不能早于开始日期。",
        MustBeEmpty => "您选择了匿名举报，却填写了身份信息。请清空实名信息，或改选“实名举报”。",
        BadCheckDigit => "身份证号的最后一位（校验码）不对，请核对是否输错。",
        InvalidBirthDate => "身份证号中的出生日期不存在，请核对。",
        InvalidFormat => "身份证号应为18位：前17位是数字，最后一位是数字或X。",
        InvalidPhone => "手机号应为以1开头的11位数字。",
        InvalidEmail => "邮箱地址格式不对，例如 name@example.com；不用邮箱可以不填。",
        InvalidLength => "长度不符合要求。",
        TooMany => "数量太多。",
        ControlCharacter => {
            "这里含有看不见的控制字符（常见于从别处复制粘贴的文字），请删除后重新填写。"
        }
        InvalidEncoding => "内容的编码有误，无法识别，请重新填写。",
        _ => "此项填写有误，请检查。",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_sees_field_code_and_english_message_only() {
        let v = FieldViolation::new("body", ErrorCode::TooLong, "at most 5 characters")
            .limit(5)
            .zh("留言不能超过5个字。");
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            serde_json::json!({"field": "body", "code": "too_long", "message": "at most 5 characters"})
        );
        assert_eq!(v.limit, Some(5));
        assert_eq!(v.message_zh, "留言不能超过5个字。");
    }

    #[test]
    fn without_a_specific_message_the_code_speaks_chinese() {
        let v = FieldViolation::new("cursor", ErrorCode::InvalidEncoding, "not UTF-8");
        assert_eq!(v.message_zh, "内容的编码有误，无法识别，请重新填写。");
        let v = FieldViolation::new("x", ErrorCode::NotDigits, "digits only");
        assert_eq!(v.message_zh, "此项填写有误，请检查。");
    }
}
