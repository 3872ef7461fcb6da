//! The Chinese words of the public pages that code decides: labels for evidence, dates and times
//! in China Standard Time. Validation messages are not here: each `FieldViolation` carries its own
//! Chinese message, written by the rule that found it (`domain::violation`).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

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
