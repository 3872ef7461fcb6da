//! Signer-based clawback (谁签字谁追回,谁签字谁负责; SPEC.md rule 3 and "Domain model" →
//! Clawback; issue 11): the pure rules. A clawback is one wrongly granted benefit; its approval
//! chain of signers answers for it, jointly, until it is recovered or written off.
//!
//! - **Outstanding** is `due − Σ recoveries − written off`, computed here from the ledger every
//!   time, never stored ([`Figures`]); the status follows from it ([`ClawbackStatus`]).
//! - **A recovery** may not exceed what is outstanding ([`Figures::accept_recovery`]).
//! - **A signer's level matches the stage** signed ([`SignerStage::level`]).
//! - **Staff see a masked ID number** ([`mask_id_number`]).

use chrono::NaiveDate;

use super::divisions::Level;
use super::money::{Fen, MoneyError};
use super::report::Programme;

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal / $zh:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)] // stored through db::text
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text served and stored.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The name shown to people, in Chinese.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            /// The value for `s`, or `None` when `s` names none.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Every text, comma-separated (for error messages).
            pub fn names() -> String {
                [$($text),+].join(", ")
            }
        }
    };
}

vocabulary!(
    /// The stage of the approval chain a signer signed (SPEC.md → "Clawback").
    SignerStage {
        VillageDeliberation = "village_deliberation" / "村评议",
        TownshipReview = "township_review" / "乡镇审核",
        CountyApproval = "county_approval" / "县级审批",
    }
);

vocabulary!(
    /// Who paid a recovery: the household that received the benefit, or a signer (who answers
    /// for the money: 谁签字谁追回).
    PayerKind {
        Beneficiary = "beneficiary" / "受益人",
        Signer = "signer" / "签字人",
    }
);

vocabulary!(
    /// Where a clawback stands, derived from its figures ([`Figures::status`]), never stored.
    ClawbackStatus {
        Open = "open" / "待追回",
        PartlyRecovered = "partly_recovered" / "部分追回",
        Recovered = "recovered" / "已追回",
        WrittenOff = "written_off" / "已核销",
    }
);

impl SignerStage {
    /// The level of official who signs at this stage: village deliberation a village official,
    /// township review a township official, county approval a county official (SPEC.md →
    /// "Clawbacks").
    pub fn level(self) -> Level {
        match self {
            SignerStage::VillageDeliberation => Level::Village,
            SignerStage::TownshipReview => Level::Township,
            SignerStage::CountyApproval => Level::County,
        }
    }
}

/// The programmes a clawback may be recorded under: the three of the speech (rule 3: "不该享受
/// 农村危旧土坯房改造、不该享受低保、不该享受扶贫资金但享受了的").
pub fn clawback_programme(p: Programme) -> bool {
    matches!(
        p,
        Programme::Dibao | Programme::HouseRenovation | Programme::PovertyIdentification
    )
}

/// A clawback's money, in fen: what is due (after amendments), the sum of its recoveries, and
/// what a supervisor wrote off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub due: Fen,
    pub recovered: Fen,
    pub written_off: Fen,
}

/// A recovery larger than what is outstanding (422 `over_recovery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("only {outstanding} is outstanding")]
pub struct OverRecovery {
    pub outstanding: Fen,
}

impl Figures {
    /// `due − recovered − written off`.
    ///
    /// Errors: [`MoneyError::Negative`] when the ledger holds more than is due, which the rules
    /// never allow (a recovery is refused beyond what is outstanding, a correction below what
    /// is recovered and written off).
    pub fn outstanding(&self) -> Result<Fen, MoneyError> {
        self.due
            .checked_sub(self.recovered)?
            .checked_sub(self.written_off)
    }

    /// The status: `written_off` once a write-off leaves nothing outstanding; `recovered` when
    /// recoveries leave nothing outstanding; `partly_recovered` once anything is recovered;
    /// `open` before.
    ///
    /// Errors: as [`Figures::outstanding`].
    pub fn status(&self) -> Result<ClawbackStatus, MoneyError> {
        let outstanding = self.outstanding()?;
        Ok(if outstanding.is_zero() && !self.written_off.is_zero() {
            ClawbackStatus::WrittenOff
        } else if outstanding.is_zero() {
            ClawbackStatus::Recovered
        } else if !self.recovered.is_zero() {
            ClawbackStatus::PartlyRecovered
        } else {
            ClawbackStatus::Open
        })
    }

    /// Whether the clawback is overdue on `today` (county date): its `due_on` has passed and
    /// money is outstanding.
    ///
    /// Errors: as [`Figures::outstanding`].
    pub fn overdue(&self, due_on: NaiveDate, today: NaiveDate) -> Result<bool, MoneyError> {
        Ok(due_on < today && !self.outstanding()?.is_zero())
    }

    /// The figures after a recovery of `amount`.
    ///
    /// Errors: `Err(Ok(OverRecovery))` when `amount` is more than what is outstanding (the
    /// answer names it); `Err(Err(MoneyError))` when the figures do not compute.
    pub fn accept_recovery(
        &self,
        amount: Fen,
    ) -> Result<Figures, Result<OverRecovery, MoneyError>> {
        let outstanding = self.outstanding().map_err(Err)?;
        if amount > outstanding {
            return Err(Ok(OverRecovery { outstanding }));
        }
        Ok(Figures {
            recovered: self.recovered.checked_add(amount).map_err(Err)?,
            ..*self
        })
    }

    /// The lowest amount due a correction may set: what is recovered plus what is written off,
    /// so that outstanding never goes below zero.
    ///
    /// Errors: [`MoneyError::Overflow`].
    pub fn lowest_due(&self) -> Result<Fen, MoneyError> {
        self.recovered.checked_add(self.written_off)
    }
}

/// An ID number as staff see it: the first four and last four characters, the ten between as
/// `*` (`3607**********1234`). Anything not 18 characters long is masked whole.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() != 18 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..4].iter().collect();
    out.push_str(&"*".repeat(10));
    out.extend(&chars[14..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fen(v: i64) -> Fen {
        Fen::new(v).unwrap()
    }

    fn figures(due: i64, recovered: i64, written_off: i64) -> Figures {
        Figures {
            due: fen(due),
            recovered: fen(recovered),
            written_off: fen(written_off),
        }
    }

    #[test]
    fn the_status_follows_from_the_figures() {
        use ClawbackStatus as S;
        assert_eq!(figures(1000, 0, 0).status(), Ok(S::Open));
        assert_eq!(figures(1000, 60, 0).status(), Ok(S::PartlyRecovered));
        assert_eq!(figures(1000, 1000, 0).status(), Ok(S::Recovered));
        assert_eq!(figures(1000, 400, 600).status(), Ok(S::WrittenOff));
        assert_eq!(figures(1000, 0, 1000).status(), Ok(S::WrittenOff));
        // A correction raising the amount after a write-off makes money outstanding again.
        assert_eq!(figures(1200, 400, 600).status(), Ok(S::PartlyRecovered));
        assert_eq!(figures(1000, 900, 200).status(), Err(MoneyError::Negative));
        assert_eq!(figures(1000, 400, 100).outstanding(), Ok(fen(500)));
    }

    #[test]
    fn a_recovery_never_exceeds_what_is_outstanding() {
        let f = figures(1000, 960, 0);
        assert_eq!(
            f.accept_recovery(fen(60)),
            Err(Ok(OverRecovery {
                outstanding: fen(40)
            }))
        );
        let after = f.accept_recovery(fen(40)).unwrap();
        assert_eq!(after.outstanding(), Ok(Fen::ZERO));
        assert_eq!(after.status(), Ok(ClawbackStatus::Recovered));
        // Written off: nothing more can be recovered.
        assert!(figures(1000, 0, 1000).accept_recovery(fen(1)).is_err());
        assert_eq!(figures(1000, 300, 200).lowest_due(), Ok(fen(500)));
    }

    #[test]
    fn overdue_means_past_due_with_money_outstanding() {
        let d = |day| NaiveDate::from_ymd_opt(2027, 3, day).unwrap();
        assert!(figures(1000, 0, 0).overdue(d(1), d(2)).unwrap());
        assert!(!figures(1000, 0, 0).overdue(d(2), d(2)).unwrap());
        assert!(!figures(1000, 1000, 0).overdue(d(1), d(2)).unwrap());
        assert!(!figures(1000, 0, 1000).overdue(d(1), d(2)).unwrap());
    }

    #[test]
    fn each_stage_has_its_level_and_texts_round_trip() {
        assert_eq!(SignerStage::VillageDeliberation.level(), Level::Village);
        assert_eq!(SignerStage::TownshipReview.level(), Level::Township);
        assert_eq!(SignerStage::CountyApproval.level(), Level::County);
        for s in SignerStage::ALL {
            assert_eq!(SignerStage::parse(s.as_str()), Some(*s));
        }
        for p in PayerKind::ALL {
            assert_eq!(PayerKind::parse(p.as_str()), Some(*p));
        }
        for s in ClawbackStatus::ALL {
            assert_eq!(ClawbackStatus::parse(s.as_str()), Some(*s));
        }
        assert!(!clawback_programme(Programme::Other));
        assert!(clawback_programme(Programme::Dibao));
    }

    #[test]
    fn id_numbers_are_masked_but_for_four_and_four() {
        assert_eq!(mask_id_number("360734199001011234"), "3607**********1234");
        assert_eq!(mask_id_number("11010519491231002X"), "1101**********002X");
        assert_eq!(mask_id_number("123"), "***");
    }
}
