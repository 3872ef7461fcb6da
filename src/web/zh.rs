//! The Chinese words of the public pages that code decides: validation messages for each stable
//! field error `code`, labels for evidence, dates and times in China Standard Time.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use crate::domain::report::{DESCRIPTION_MAX, DESCRIPTION_MIN};
use crate::reports::follow_up::MESSAGE_MAX;

/// What to tell the reporter about one field error. `field` is the API's field name
/// (`reporter.id_number`, `accused[0].name`, `files`, `body` …) and `code` its stable code.
pub fn field_error(field: &str, code: &str) -> String {
    let base = field.split('[').next().unwrap_or(field);
    let is_accused_name = base == "accused" && field.ends_with(".name");
    let is_accused_position = base == "accused" && field.ends_with(".position");
    let text = match (code, base) {
        ("required", "programme") => "请选择举报涉及的项目。",
        ("required", "misconduct") => "请至少选择一种问题类型。",
        ("required", "township_code") | ("required", "village_code") => {
            "请选择事情发生的乡镇和村。"
        }
        ("required", "description") => {
            return format!("请写明事情经过，至少{DESCRIPTION_MIN}个字。");
        }
        ("required", "anonymous") => "请选择匿名举报或实名举报。",
        ("required", "reporter") => "实名举报需要填写姓名、身份证号和手机号。",
        ("required", "reporter.name") => "请填写您的姓名（1至50个字）。",
        ("required", "reporter.id_number") => "请填写您的18位身份证号。",
        ("required", "reporter.phone") => "请填写您的手机号。",
        ("required", "files") => "请至少选择一个文件。",
        ("required", "body") => "请填写留言内容。",
        ("required", _) => "此项必须填写。",

        ("unknown_value", "programme") => "所选项目无效，请重新选择。",
        ("unknown_value", "misconduct") => "所选问题类型无效，请重新选择。",
        ("unknown_value", _) => "所选内容无效，请重新选择。",
        ("unknown_township", _) => "找不到所选的乡镇，请重新选择。",
        ("unknown_village", _) => "找不到所选的村，请重新选择。",
        ("village_not_in_township", _) => "所选的村不属于所选的乡镇，请重新选择。",

        ("too_short", "description") => {
            return format!(
                "描述太短，请至少写{DESCRIPTION_MIN}个字，说清楚什么人、什么时候、做了什么事。"
            );
        }
        ("too_short", _) => "内容太短，请补充。",
        ("too_long", "description") => {
            return format!("描述不能超过{DESCRIPTION_MAX}个字。");
        }
        ("too_long", "reporter.address") => "地址不能超过200个字。",
        ("too_long", "body") => return format!("留言不能超过{MESSAGE_MAX}个字。"),
        ("too_long", _) if is_accused_position => "职务不能超过50个字。",
        ("too_long", _) => "内容太长，请删减。",

        ("invalid_date", _) => "日期格式不对，请按“2026-03-01”的格式填写（年-月-日）。",
        ("in_future", _) => "日期不能晚于今天。",
        ("before_start", _) => "结束日期不能早于开始日期。",
        ("must_be_empty", _) => {
            "您选择了匿名举报，却填写了身份信息。请清空实名信息，或改选“实名举报”。"
        }
        ("bad_check_digit", _) => "身份证号的最后一位（校验码）不对，请核对是否输错。",
        ("invalid_birth_date", _) => "身份证号中的出生日期不存在，请核对。",
        ("invalid_format", _) => "身份证号应为18位：前17位是数字，最后一位是数字或X。",
        ("invalid_phone", _) => "手机号应为以1开头的11位数字。",
        ("invalid_email", _) => "邮箱地址格式不对，例如 name@example.com；不用邮箱可以不填。",
        ("invalid_length", _) if is_accused_name => {
            "请填写被举报人的姓名（1至50个字）；不知道全名可以写“张某”。"
        }
        ("invalid_length", _) => "长度不符合要求。",
        ("too_many", "files") => "文件太多了，一次最多上传10个。",
        ("too_many", "accused") => "被举报人最多填写20名。",
        ("too_many", _) => "数量太多。",
        ("empty", "files") => "有一个文件是空的（0字节），请重新选择。",
        // The text rules (domain::text): refused controls; a value that is not UTF-8.
        ("control_character", _) => {
            "这里含有看不见的控制字符（常见于从别处复制粘贴的文字），请删除后重新填写。"
        }
        ("invalid_encoding", _) => "内容的编码有误，无法识别，请重新填写。",
        _ => "此项填写有误，请检查。",
    };
    text.to_string()
}

/// The same message for every wrong receipt code, whatever was wrong with it.
pub const WRONG_CODE: &str = "回执码不正确，或者没有对应的举报。请核对您抄下的16位数字后重新输入。";

/// A short name for the kind of an evidence file.
pub fn evidence_kind(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "PDF文件",
        t if t.starts_with("image/") => "图片",
        t if t.starts_with("audio/") => "录音",
        t if t.starts_with("video/") => "视频",
        _ => "文档",
    }
}

/// A file size as people read it.
pub fn size(bytes: i64) -> String {
    let bytes = bytes.max(0) as f64;
    if bytes < 1024.0 {
        format!("{bytes:.0} 字节")
    } else if bytes < 1024.0 * 1024.0 {
        format!("{:.1} KB", bytes / 1024.0)
    } else {
        format!("{:.1} MB", bytes / (1024.0 * 1024.0))
    }
}

/// `2026年12月18日（星期五）`
pub fn date(d: NaiveDate) -> String {
    use chrono::Datelike;
    const DAYS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
    let weekday = DAYS[d.weekday().num_days_from_monday() as usize];
    format!(
        "{}年{}月{}日（星期{weekday}）",
        d.year(),
        d.month(),
        d.day()
    )
}

/// `2026年11月29日 13:36` in China Standard Time.
pub fn time(t: DateTime<Utc>) -> String {
    let cst = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    t.with_timezone(&cst)
        .format("%Y年%-m月%-d日 %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code that validation, follow-up and the upload reader can give has its own words.
    #[test]
    fn every_known_code_has_a_specific_message() {
        let generic = field_error("x", "no_such_code");
        let cases = [
            ("programme", "required"),
            ("misconduct", "required"),
            ("township_code", "required"),
            ("village_code", "required"),
            ("description", "required"),
            ("anonymous", "required"),
            ("reporter", "required"),
            ("reporter.name", "required"),
            ("reporter.id_number", "required"),
            ("reporter.phone", "required"),
            ("files", "required"),
            ("body", "required"),
            ("programme", "unknown_value"),
            ("misconduct[0]", "unknown_value"),
            ("township_code", "unknown_township"),
            ("village_code", "unknown_village"),
            ("village_code", "village_not_in_township"),
            ("description", "too_short"),
            ("description", "too_long"),
            ("accused[0].position", "too_long"),
            ("reporter.address", "too_long"),
            ("body", "too_long"),
            ("occurred_from", "invalid_date"),
            ("occurred_from", "in_future"),
            ("occurred_to", "before_start"),
            ("reporter", "must_be_empty"),
            ("reporter.id_number", "bad_check_digit"),
            ("reporter.id_number", "invalid_birth_date"),
            ("reporter.id_number", "invalid_format"),
            ("reporter.phone", "invalid_phone"),
            ("reporter.email", "invalid_email"),
            ("accused[2].name", "invalid_length"),
            ("accused", "too_many"),
            ("files", "too_many"),
            ("files", "empty"),
            ("description", "control_character"),
            ("accused[0].name", "control_character"),
            ("body", "control_character"),
            ("cursor", "invalid_encoding"),
        ];
        for (field, code) in cases {
            let text = field_error(field, code);
            assert_ne!(text, generic, "{field} {code}");
            assert!(!text.is_ascii(), "{field} {code} is in Chinese");
        }
        assert!(field_error("description", "too_short").contains("20"));
    }

    #[test]
    fn dates_times_and_sizes_read_naturally() {
        let d: NaiveDate = "2026-12-18".parse().unwrap();
        assert_eq!(date(d), "2026年12月18日（星期五）");
        let t: DateTime<Utc> = "2026-11-29T05:36:00Z".parse().unwrap();
        assert_eq!(time(t), "2026年11月29日 13:36");
        assert_eq!(size(512), "512 字节");
        assert_eq!(size(2048), "2.0 KB");
        assert_eq!(size(3 * 1024 * 1024), "3.0 MB");
        assert_eq!(evidence_kind("image/png"), "图片");
        assert_eq!(evidence_kind("application/pdf"), "PDF文件");
    }
}
